/**
 * The demo's receiving end: Postern's own SmtpServer in this process, on free loopback ports (STARTTLS and
 * implicit TLS), with an automatic certificate, a users file holding one random test user, and a Maildir — all
 * in a temp folder that `stop()` removes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Secret } from '../../core/index.js';
import { type ListeningAddress, MaildirStore, SmtpServer, UsersFile } from '../../server/index.js';
import { ensureTestUser } from '../serve/test-user.js';

export interface EmbeddedServer {
  /** The temp folder everything lives in. */
  readonly dir: string;
  readonly starttls: ListeningAddress;
  readonly implicit: ListeningAddress;
  /** The automatic certificate's CA (PEM): what clients trust. */
  readonly ca: string;
  readonly user: string;
  readonly password: Secret;
  readonly store: MaildirStore;
  readonly hostname: string;
  /** Closes the server (no connection survives it) and removes the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

const HOSTNAME = 'localhost';

/** Starts the server; if anything fails on the way, what was made is removed again. */
export async function startEmbeddedServer(): Promise<EmbeddedServer> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-demo-'));
  let server: SmtpServer | undefined;
  const stop = async () => {
    try {
      await server?.close({ graceful: false });
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  };
  try {
    const testUser = await ensureTestUser(join(dir, 'users'));
    if (!testUser) throw new Error(`a users file already exists in the new temp folder ${dir}`);
    const store = new MaildirStore(join(dir, 'Maildir'), { hostname: HOSTNAME });
    server = new SmtpServer({
      endpoints: [
        { host: '127.0.0.1', port: 0, tls: 'starttls' },
        { host: '127.0.0.1', port: 0, tls: 'implicit' },
      ],
      tls: 'auto',
      dataDir: dir,
      auth: { store: await UsersFile.load(join(dir, 'users')) },
      store,
      hostname: HOSTNAME,
    });
    const [starttls, implicit] = await server.listen();
    if (!starttls || !implicit || !server.caCertificate) throw new Error('the embedded server did not start');
    return {
      dir,
      starttls,
      implicit,
      ca: server.caCertificate,
      user: testUser.name,
      password: testUser.password,
      store,
      hostname: HOSTNAME,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
