/**
 * `postern send` flags → a message object for the composer (the same nodemailer-style object the library
 * takes), and the DKIM options. Every file named on the command line is checked first, so a typo ends the
 * run with 66 before anything connects.
 */
import { constants } from 'node:fs';
import { access, open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Secret } from '../../core/index.js';
import type { DkimOptions } from '../../mime/dkim/index.js';
import type { Message } from '../../mime/index.js';
import { CliError } from '../cli-error.js';
import { EXIT } from '../exit-codes.js';

export interface MessageFlags {
  readonly from?: string | undefined;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject?: string | undefined;
  readonly text?: string | undefined;
  readonly textFile?: string | undefined;
  readonly htmlFile?: string | undefined;
  readonly attach: readonly string[];
  readonly header: readonly string[];
  readonly raw?: string | undefined;
  readonly dkimKey?: string | undefined;
  readonly dkimSelector?: string | undefined;
  readonly dkimDomain?: string | undefined;
}

/** Where the body comes from when no flag gives one. */
export interface BodyInput {
  /** stdin, when it is not a terminal; undefined on a terminal. */
  readonly stdin: Readable | undefined;
}

/** Used when there is no body at all and stdin is a terminal: a test message should say what it is. */
export const DEFAULT_TEXT = 'This is a test message sent with postern.\n';

/** Fails with 66 unless `path` is a readable file; `what` names it ("attachment"). */
export async function requireFile(path: string, what: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      EXIT.NO_INPUT,
      code === 'ENOENT' ? `${what} ${path} does not exist` : `${what} ${path} cannot be read (${code})`,
    );
  }
}

/** Reads a small file named by a flag (a key, a certificate), failing with 66 when it is missing. */
export async function readInputFile(path: string, what: string): Promise<Buffer> {
  await requireFile(path, what);
  try {
    return await readFile(path);
  } catch (err) {
    throw new CliError(EXIT.NO_INPUT, `${what} ${path} cannot be read (${(err as Error).message})`);
  }
}

/** "Name: value" → { key, value }; anything else is a usage error. */
export function parseHeaderFlag(text: string): { key: string; value: string } {
  const colon = text.indexOf(':');
  const key = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(key)) {
    throw new CliError(EXIT.USAGE, `--header ${JSON.stringify(text.slice(0, 60))} is not "Name: value"`, {
      hint: 'for example --header "X-Campaign: spring"',
    });
  }
  return { key, value: text.slice(colon + 1).trim() };
}

/**
 * The message object for the flags. `--raw` sends a file as it is; its envelope comes from --from/--to,
 * or else from the file's own From, To, Cc and Bcc fields (as `sendmail -t` does).
 */
export async function buildMessage(flags: MessageFlags, body: BodyInput): Promise<Message> {
  const inputs: [string, string][] = [
    ...(flags.textFile && flags.textFile !== '-' ? [[flags.textFile, 'text file'] as [string, string]] : []),
    ...(flags.htmlFile ? [[flags.htmlFile, 'HTML file'] as [string, string]] : []),
    ...(flags.raw ? [[flags.raw, 'raw message file'] as [string, string]] : []),
    ...flags.attach.map((path): [string, string] => [path, 'attachment']),
  ];
  for (const [path, what] of inputs) await requireFile(path, what);
  if (flags.text !== undefined && flags.textFile !== undefined) {
    throw new CliError(EXIT.USAGE, 'give --text or --text-file, not both');
  }

  if (flags.raw !== undefined) {
    const clash = [
      flags.subject !== undefined && '--subject',
      flags.text !== undefined && '--text',
      flags.textFile !== undefined && '--text-file',
      flags.htmlFile !== undefined && '--html-file',
      flags.attach.length > 0 && '--attach',
      flags.header.length > 0 && '--header',
      flags.cc.length > 0 && '--cc',
      flags.bcc.length > 0 && '--bcc',
    ].filter(Boolean);
    if (clash.length > 0) {
      throw new CliError(EXIT.USAGE, `--raw sends the file as it is; ${clash.join(', ')} cannot change it`, {
        hint: 'only --from and --to (the envelope) go with --raw',
      });
    }
    const header = await headerFields(flags.raw);
    const to =
      flags.to.length > 0 ? [...flags.to] : ['to', 'cc', 'bcc'].flatMap((name) => header.get(name) ?? []);
    const from = flags.from ?? header.get('from')?.[0];
    if (from === undefined) {
      throw new CliError(EXIT.USAGE, `--raw ${flags.raw} has no From field; give --from for the envelope`);
    }
    if (to.length === 0) {
      throw new CliError(EXIT.USAGE, `--raw ${flags.raw} has no To, Cc or Bcc field; give --to`);
    }
    return { raw: { path: flags.raw }, envelope: { from, to } };
  }

  if (flags.from === undefined) {
    throw new CliError(EXIT.USAGE, 'no sender: give --from ADDRESS', {
      hint: 'or set from = "…" in the account of your config file',
    });
  }
  if (flags.to.length + flags.cc.length + flags.bcc.length === 0) {
    throw new CliError(EXIT.USAGE, 'no recipient: give --to ADDRESS (or --cc / --bcc)');
  }
  const headers = flags.header.map(parseHeaderFlag);
  let text: Message['text'];
  if (flags.text !== undefined) text = flags.text;
  else if (flags.textFile === '-') text = requireStdin(body, '--text-file -');
  else if (flags.textFile !== undefined) text = { path: flags.textFile };
  else if (flags.htmlFile === undefined) text = body.stdin ?? DEFAULT_TEXT;
  return {
    from: flags.from,
    to: [...flags.to],
    ...(flags.cc.length > 0 ? { cc: [...flags.cc] } : {}),
    ...(flags.bcc.length > 0 ? { bcc: [...flags.bcc] } : {}),
    ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(flags.htmlFile !== undefined ? { html: { path: flags.htmlFile } } : {}),
    ...(flags.attach.length > 0 ? { attachments: flags.attach.map((path) => ({ path })) } : {}),
    ...(headers.length > 0 ? { headers } : {}),
  };
}

function requireStdin(body: BodyInput, flag: string): Readable {
  if (!body.stdin) throw new CliError(EXIT.USAGE, `${flag} reads stdin, but stdin is a terminal`);
  return body.stdin;
}

/** DKIM options from --dkim-key/--dkim-selector/--dkim-domain (domain default: the sender's). */
export async function buildDkim(
  flags: MessageFlags,
  sender: string | undefined,
): Promise<DkimOptions | undefined> {
  const given = flags.dkimKey ?? flags.dkimSelector ?? flags.dkimDomain;
  if (given === undefined) return undefined;
  if (flags.dkimKey === undefined || flags.dkimSelector === undefined) {
    throw new CliError(EXIT.USAGE, 'DKIM signing needs both --dkim-key FILE and --dkim-selector NAME', {
      hint: '--dkim-domain defaults to the domain of --from',
    });
  }
  const domain = flags.dkimDomain ?? domainOf(sender);
  if (domain === undefined) {
    throw new CliError(EXIT.USAGE, 'give --dkim-domain: it cannot be taken from the sender address');
  }
  const key = await readInputFile(flags.dkimKey, 'DKIM key');
  return {
    domainName: domain,
    keySelector: flags.dkimSelector,
    privateKey: new Secret(key.toString('utf8')),
  };
}

function domainOf(address: string | undefined): string | undefined {
  const bare = /<([^<>]*)>\s*$/.exec(address ?? '')?.[1] ?? address ?? '';
  const at = bare.lastIndexOf('@');
  return at === -1 ? undefined : bare.slice(at + 1).trim() || undefined;
}

/** Header fields of a message file: name (lower case) → values, unfolded; read up to the blank line. */
async function headerFields(path: string): Promise<Map<string, string[]>> {
  const handle = await open(path, 'r');
  let head = '';
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let offset = 0; offset < 1024 * 1024; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) break;
      head += buffer.subarray(0, bytesRead).toString('utf8');
      offset += bytesRead;
      if (/\r?\n\r?\n/.test(head)) break;
    }
  } finally {
    await handle.close();
  }
  const end = head.search(/\r?\n\r?\n/);
  const unfolded = (end === -1 ? head : head.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const fields = new Map<string, string[]>();
  for (const line of unfolded.split(/\r?\n/)) {
    const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!match) continue;
    const name = match[1]!.toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), match[2]!.trim()]);
  }
  return fields;
}
