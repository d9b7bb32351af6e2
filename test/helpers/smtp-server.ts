/**
 * An in-process SMTP server from the npm package `smtp-server` (Nodemailer's), on 127.0.0.1 with a free
 * port and the test PKI's certificate, for interop tests.
 *
 * smtp-server never offers CHUNKING/BDAT (nor BINARYMIME), so `hideChunking` changes nothing; it
 * offers PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, SIZE (when `size` is set), STARTTLS
 * (unless secure/hidden) and AUTH (only under TLS unless allowInsecureAuth). DSN is hidden by default.
 */
import type { AddressInfo } from 'node:net';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { testPki } from './certs.js';

export interface SmtpServerUser {
  name: string;
  /** For PLAIN, LOGIN and CRAM-MD5. */
  password?: string;
  /** For XOAUTH2. */
  accessToken?: string;
}

export interface SmtpServerMessage {
  envelope: {
    /** MAIL FROM address ('' for the null sender). */
    mailFrom: string;
    rcptTo: string[];
    /** ESMTP parameters of MAIL FROM, keys upper-cased (e.g. { SIZE: '123', BODY: '8BITMIME' }). */
    mailFromArgs: Record<string, unknown>;
  };
  /** The message bytes exactly as received (after dot-unstuffing; CRLF line endings kept). */
  data: Buffer;
  /** The authenticated user name, if any. */
  user: string | undefined;
  /** Whether the message came over TLS. */
  secure: boolean;
  session: SMTPServerSession;
}

/** Thrown from `onData` to reject a message with a given reply code (default 550). */
export class RejectMessage extends Error {
  constructor(
    message: string,
    readonly responseCode = 550,
  ) {
    super(message);
  }
}

export interface SmtpServerHarnessOptions {
  /** Implicit TLS (port-465 style). Default false: plaintext with STARTTLS offered. */
  secure?: boolean;
  hideSTARTTLS?: boolean;
  hidePIPELINING?: boolean;
  /** No effect: smtp-server offers no CHUNKING anyway. Kept so tests can state their intent. */
  hideChunking?: boolean;
  /** e.g. ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2']; default ['PLAIN', 'LOGIN'] when `users` is given. */
  authMethods?: string[];
  /** When given, AUTH is offered and required (unless authOptional); otherwise AUTH is disabled. */
  users?: SmtpServerUser[];
  authOptional?: boolean;
  /** Allow AUTH without TLS (default false). */
  allowInsecureAuth?: boolean;
  /** Maximum message size (advertised as SIZE); messages above it get 552. */
  size?: number;
  /** Called for each message before it is accepted; throw (e.g. a RejectMessage) to reject it. */
  onData?: (message: SmtpServerMessage) => void | Promise<void>;
  /** smtp-server logger output on the console (default false). */
  logger?: boolean;
  /** Any other smtp-server options, applied last. */
  serverOptions?: Partial<SMTPServerOptions>;
}

export interface SmtpServerInstance {
  host: '127.0.0.1';
  port: number;
  /** CA file that signed the server certificate (CN/SAN localhost, 127.0.0.1). */
  caFile: string;
  /** Accepted messages, in order (the array fills as messages arrive). */
  messages: SmtpServerMessage[];
  /** Waits until at least `count` messages were accepted (default timeout 10 s). */
  waitForMessages(count: number, timeoutMs?: number): Promise<SmtpServerMessage[]>;
  server: SMTPServer;
  /** Closes the listener and any open connection (421 after 200 ms). */
  stop(): Promise<void>;
}

export async function startSmtpServer(opts: SmtpServerHarnessOptions = {}): Promise<SmtpServerInstance> {
  const pki = await testPki();
  const messages: SmtpServerMessage[] = [];
  const users = new Map((opts.users ?? []).map((u) => [u.name, u]));
  const withAuth = opts.users !== undefined;

  const onAuth = (
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void => {
    const user = auth.username === undefined ? undefined : users.get(auth.username);
    const method = auth.method as string;
    if (method === 'XOAUTH2') {
      if (user?.accessToken !== undefined && user.accessToken === auth.accessToken) {
        callback(null, { user: user.name });
      } else {
        callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.example.test/' } });
      }
      return;
    }
    const ok =
      user?.password !== undefined &&
      (method === 'CRAM-MD5' ? auth.validatePassword(user.password) : auth.password === user.password);
    if (ok) callback(null, { user: user.name });
    else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
  };

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('error', (err) => callback(err));
    stream.once('end', () => {
      if (stream.sizeExceeded) {
        callback(Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 }));
        return;
      }
      const from = session.envelope.mailFrom;
      const message: SmtpServerMessage = {
        envelope: {
          mailFrom: from ? from.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          mailFromArgs: from ? { ...(from.args as Record<string, unknown>) } : {},
        },
        data: Buffer.concat(chunks),
        user: session.user,
        secure: session.secure,
        session,
      };
      Promise.resolve()
        .then(() => opts.onData?.(message))
        .then(
          () => {
            messages.push(message);
            callback(null, `OK stored as ${messages.length}`);
          },
          (err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            if (!('responseCode' in e)) Object.assign(e, { responseCode: 550 });
            callback(e);
          },
        );
    });
  };

  const options: SMTPServerOptions = {
    secure: opts.secure ?? false,
    key: pki.serverKey,
    cert: pki.serverCert,
    name: 'smtp-server.example.test',
    hideSTARTTLS: opts.hideSTARTTLS ?? false,
    hidePIPELINING: opts.hidePIPELINING ?? false,
    authOptional: opts.authOptional ?? false,
    allowInsecureAuth: opts.allowInsecureAuth ?? false,
    disabledCommands: withAuth ? [] : ['AUTH'],
    disableReverseLookup: true,
    logger: opts.logger ?? false,
    closeTimeout: 200,
    onAuth,
    onData,
  };
  if (withAuth) options.authMethods = opts.authMethods ?? ['PLAIN', 'LOGIN'];
  if (opts.size !== undefined) options.size = opts.size;
  Object.assign(options, opts.serverOptions ?? {});

  const server = new SMTPServer(options);
  server.on('error', () => {
    // client-side errors (resets, TLS failures) are expected in tests
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  // A forgotten stop() must not keep the test process alive.
  server.server.unref();
  const port = (server.server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    caFile: pki.caFile,
    messages,
    server,
    async waitForMessages(count, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `smtp-server waitForMessages: ${messages.length}/${count} message(s) after ${timeoutMs} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return messages;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}
