/**
 * Maildir delivery (D. J. Bernstein's maildir(5)): the message is written to tmp/, fsynced, renamed into new/,
 * and new/ is fsynced — only then is it acknowledged, so a crash after the 250 cannot lose it. Names are
 * unique per time, process, queue id, a random part and host: "1732800000.M123456P4242Q7XQ3K2M9ZB4DR9f2c61d0.host".
 * The store's id of a message is its queue id (the "queued as" of the 250 and the Received header's id).
 *
 * The envelope (which no header holds reliably) is kept beside the Maildir in postern-envelopes/NAME.json,
 * written durably before the message appears in new/. Mail readers ignore that folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InputError } from '../../core/errors.js';
import type { Envelope, SessionInfo } from '../session.js';
import type { MessageStore, StoredMessage } from './types.js';

const ENVELOPES = 'postern-envelopes';
/** maildir(5): "/" and ":" cannot appear in the host part; they are written as octal escapes. */
function safeHost(name: string): string {
  return name.replace(/\//g, '\\057').replace(/:/g, '\\072') || 'localhost';
}
const NAME = /^[A-Za-z0-9._\\-]+$/;
const QUEUE_ID = /^[A-Za-z0-9]{1,64}$/;

/** The queue id in a file name we wrote, or the whole name for files others put there. */
function idOf(name: string): string {
  return /^\d+\.M\d+P\d+Q([A-Za-z0-9]+)R[0-9a-f]+\./.exec(name)?.[1] ?? name;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeDurably(path: string, source: Readable | Buffer): Promise<number> {
  const handle = await open(path, 'wx', 0o600);
  let size = 0;
  try {
    if (Buffer.isBuffer(source)) {
      await handle.writeFile(source);
      size = source.length;
    } else {
      for await (const chunk of source) {
        const bytes = chunk as Buffer;
        size += bytes.length;
        await handle.write(bytes);
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return size;
}

export interface MaildirStoreOptions {
  /** The host part of file names; default os.hostname(). */
  readonly hostname?: string;
}

export class MaildirStore implements MessageStore {
  readonly dir: string;
  readonly #host: string;
  #ready: Promise<void> | undefined;
  #counter = 0;

  constructor(dir: string, options: MaildirStoreOptions = {}) {
    this.dir = dir;
    this.#host = safeHost(options.hostname ?? hostname());
  }

  /** Creates tmp/, new/, cur/ (0700) when missing; called by the first delivery. */
  init(): Promise<void> {
    this.#ready ??= (async () => {
      for (const sub of ['tmp', 'new', 'cur', ENVELOPES]) {
        await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
      }
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  #uniqueName(id: string): string {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    const micros = (now % 1000) * 1000 + (this.#counter++ % 1000);
    return `${seconds}.M${micros}P${process.pid}Q${id}R${randomBytes(4).toString('hex')}.${this.#host}`;
  }

  async deliver(message: Readable, envelope: Envelope, _session: SessionInfo): Promise<{ id: string }> {
    await this.init();
    if (!QUEUE_ID.test(envelope.id))
      throw new InputError('EINVALID_ARGUMENT', 'the envelope id is not a queue id');
    const name = this.#uniqueName(envelope.id);
    const tmpMessage = join(this.dir, 'tmp', name);
    const tmpEnvelope = join(this.dir, 'tmp', `${name}.envelope`);
    try {
      await writeDurably(tmpMessage, message);
      const record = { ...envelope, receivedAt: new Date().toISOString() };
      await writeDurably(tmpEnvelope, Buffer.from(`${JSON.stringify(record)}\n`));
      await rename(tmpEnvelope, join(this.dir, ENVELOPES, `${name}.json`));
      await fsyncDir(join(this.dir, ENVELOPES));
      await rename(tmpMessage, join(this.dir, 'new', name));
      await fsyncDir(join(this.dir, 'new'));
    } catch (error) {
      await Promise.all([rm(tmpMessage, { force: true }), rm(tmpEnvelope, { force: true })]);
      throw error;
    }
    return { id: envelope.id };
  }

  async list(): Promise<StoredMessage[]> {
    await this.init();
    const found: StoredMessage[] = [];
    for (const sub of ['new', 'cur']) {
      for (const file of await readdir(join(this.dir, sub))) {
        const name = file.split(':')[0] ?? file;
        const id = idOf(name);
        const path = join(this.dir, sub, file);
        let size: number;
        let mtime: Date;
        try {
          const info = await stat(path);
          size = info.size;
          mtime = info.mtime;
        } catch {
          continue; // moved or removed meanwhile
        }
        const record = await this.#envelope(name);
        found.push({
          id,
          path,
          size,
          envelope: record?.envelope ?? { id, mailFrom: { address: '', params: {} }, rcptTo: [] },
          receivedAt: record?.receivedAt ?? mtime,
        });
      }
    }
    return found.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  async #envelope(name: string): Promise<{ envelope: Envelope; receivedAt: Date } | undefined> {
    try {
      const text = await readFile(join(this.dir, ENVELOPES, `${name}.json`), 'utf8');
      const record = JSON.parse(text) as Envelope & { receivedAt: string };
      const { receivedAt, ...envelope } = record;
      return { envelope, receivedAt: new Date(receivedAt) };
    } catch {
      return undefined;
    }
  }

  /** The path of a message in new/ or cur/. */
  async pathOf(id: string): Promise<string> {
    if (!NAME.test(id)) throw new InputError('EINVALID_ARGUMENT', 'not a Maildir message id');
    for (const sub of ['new', 'cur']) {
      let files: string[];
      try {
        files = await readdir(join(this.dir, sub));
      } catch {
        continue;
      }
      const file = files.find((f) => idOf(f.split(':')[0] ?? f) === id);
      if (file) return join(this.dir, sub, file);
    }
    throw new InputError('EINVALID_ARGUMENT', `no message with id ${JSON.stringify(id)} in ${this.dir}`);
  }

  async read(id: string): Promise<Buffer> {
    return readFile(await this.pathOf(id));
  }
}
