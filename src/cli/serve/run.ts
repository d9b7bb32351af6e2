/**
 * `postern serve` from start to stop: prepare the data folder, the test user and the Maildir, listen, print how
 * to try it, log every connection, reload on SIGHUP, and stop gracefully on SIGTERM/SIGINT with exit 0.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { isPosternError, type Logger } from '../../core/index.js';
import { jsonLogger, listUsers, MaildirStore, SmtpServer, UsersFile } from '../../server/index.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { SHUTDOWN_TIMEOUT_MS } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import type { OutStream } from '../output.js';
import { printBanner } from './banner.js';
import { formatListen } from './listen-address.js';
import { planServe, type ServeFlags, type ServePlan } from './plan.js';
import { watchSignals } from './signals.js';
import { ensureTestUser, type TestUser } from './test-user.js';
import { textLogger } from './text-logger.js';

function writableOf(stream: OutStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.write(chunk);
      done();
    },
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A missing --users file is a mistake worth a clear word; the default one gets a test user instead. */
async function requireUsersFile(plan: ServePlan): Promise<void> {
  if (plan.defaultUsersFile) return;
  try {
    await stat(plan.usersFile);
  } catch {
    throw new CliError(EXIT.NO_INPUT, `the users file ${plan.usersFile} does not exist`, {
      hint: `create it with \`postern users add NAME --file ${plan.usersFile}\`, or leave out --users for a test user`,
    });
  }
}

/** "Address in use" and friends, said with what to do about them. */
function listenFailure(err: unknown, plan: ServePlan): unknown {
  const code = isPosternError(err) ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  if (!isPosternError(err) || err.code !== 'ECONNECTION' || code === undefined) return err;
  const message = err.message.replace(` — ${err.hint}`, '');
  const other = plan.endpoints.map((e) => `--listen ${formatListen({ ...e, port: e.port + 1 })}`).join(' ');
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(EXIT.UNAVAILABLE, `${message}: the port is already in use`, {
        hint: `another program (another postern serve?) listens there; stop it, or pick free ports: postern serve ${other}`,
        cause: err,
      });
    case 'EACCES':
      return new CliError(EXIT.NO_PERMISSION, `${message}: permission denied`, {
        hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port from 1024 up with --listen',
        cause: err,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(EXIT.CONFIG, `${message}: this machine has no such address`, {
        hint: 'use an address of this machine in --listen (127.0.0.1, ::1, or 0.0.0.0 / [::] for all)',
        cause: err,
      });
  }
  return err;
}

/** Re-reads the certificate files (or the automatic certificate) and the users file; keeps the old on error. */
function reloader(server: SmtpServer, users: UsersFile, logger: Logger): () => Promise<void> {
  return async () => {
    try {
      await server.reloadCertificates(); // logs 'certificates reloaded'
    } catch (err) {
      logger.error('certificate reload failed; the old certificate stays in use', { error: errorText(err) });
    }
    try {
      await users.reload();
      logger.info('users reloaded', { file: users.path, users: users.size });
    } catch (err) {
      logger.error('users reload failed; the old users stay in use', { error: errorText(err) });
    }
  };
}

export async function runServe(flags: ServeFlags, context: CliContext): Promise<number> {
  const { output } = context;
  const plan = planServe(flags);
  if (plan.openEndpoints.length > 0) {
    output.warn(
      `--allow-open-relay: ${plan.openEndpoints.map(formatListen).join(', ')} accepts mail from anyone who can reach it, without authentication`,
    );
  }
  await requireUsersFile(plan);
  await mkdir(plan.dataDir, { recursive: true, mode: 0o700 });
  const store = new MaildirStore(plan.maildir, { hostname: plan.hostname });
  await store.init();

  let testUser: TestUser | undefined;
  let server: SmtpServer;
  let users: UsersFile;
  let userNames: string[];
  const logger = flags.jsonLogs
    ? jsonLogger(writableOf(output.stdout))
    : textLogger(output.stdout, output.out);
  try {
    testUser = plan.defaultUsersFile ? await ensureTestUser(plan.usersFile) : undefined;
    users = await UsersFile.load(plan.usersFile);
    userNames = (await listUsers(plan.usersFile)).map((u) => u.name);
    server = new SmtpServer({
      endpoints: plan.endpoints.map((e) => ({ host: e.host, port: e.port, tls: e.tls })),
      tls: plan.tls,
      dataDir: plan.dataDir,
      autoCertificateNames: plan.certificateNames,
      auth: { store: users, requireAuth: plan.requireAuth },
      requireTls: plan.requireTls,
      limits: { maxMessageSize: plan.maxSize },
      store,
      hostname: plan.hostname,
      logger,
    });
    await server.listen();
  } catch (err) {
    // A password nobody saw is no use: the next start creates a new test user and shows it.
    if (testUser) await rm(plan.usersFile, { force: true });
    throw listenFailure(err, plan);
  }

  // Before the banner: whoever reads it may signal at once, and without a handler SIGTERM would kill the process.
  const signals = watchSignals(reloader(server, users, logger));
  try {
    printBanner(output, {
      addresses: server.addresses,
      caFile: server.caFile,
      certFile: plan.certFile,
      usersFile: plan.usersFile,
      userNames,
      maildir: plan.maildir,
      testUser,
      requireTls: plan.requireTls,
      requireAuth: plan.requireAuth,
      maxSize: plan.maxSize,
      hostname: plan.hostname,
    });
    const signal = await signals.stop;
    const connections = server.connections;
    // close() stops accepting before its first await, so once 'stopping' is logged no new client gets in.
    const closed = server.close({ graceful: true, timeout: SHUTDOWN_TIMEOUT_MS });
    logger.info('stopping', { signal, connections, graceSeconds: SHUTDOWN_TIMEOUT_MS / 1000 });
    await closed;
  } finally {
    signals.dispose();
    await server.close({ graceful: false }); // nothing to do after a stop; after an error, nothing keeps running
  }
  return EXIT.OK;
}
