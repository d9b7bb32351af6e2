/**
 * `npm start`: shows the client working end to end on this machine, with nothing to configure.
 * Until Postern's own server lands, the receiving end is the smtp-server package (a dev dependency) on a
 * free loopback port with a freshly generated certificate; Postern sends to it over STARTTLS and over
 * implicit TLS with AUTH, prints the transcripts and the message as the server stored it, and exits.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import {
  createCa,
  createCertificate,
  createTransport,
  formatTranscriptEvent,
  type TlsMode,
  type TranscriptEvent,
} from '../src/index.js';

const USER = 'demo';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;

async function startServer(
  secure: boolean,
  cert: string,
  key: string,
  stored: Buffer[],
): Promise<SMTPServer> {
  const server = new SMTPServer({
    secure,
    key,
    cert,
    authMethods: ['PLAIN', 'LOGIN'],
    size: 10 * 1024 * 1024,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) callback(null, { user: USER });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        stored.push(Buffer.concat(chunks));
        callback(null);
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return server;
}

async function main(): Promise<void> {
  console.log('Postern demo — secure SMTP on this machine, nothing to configure\n');
  const ca = await createCa({ commonName: 'Postern demo CA', days: 1 });
  const leaf = await createCertificate({
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1'],
    issuer: ca,
    days: 1,
  });
  console.log('· generated a demo CA and a certificate for localhost (kept in memory only)');

  const stored: Buffer[] = [];
  const starttlsServer = await startServer(false, leaf.cert, leaf.key, stored);
  const implicitServer = await startServer(true, leaf.cert, leaf.key, stored);
  const ports: Record<'starttls' | 'implicit', number> = {
    starttls: (starttlsServer.server.address() as AddressInfo).port,
    implicit: (implicitServer.server.address() as AddressInfo).port,
  };
  console.log(
    `· receiving server: STARTTLS on 127.0.0.1:${ports.starttls}, implicit TLS on 127.0.0.1:${ports.implicit}\n`,
  );

  const message = [
    'From: Demo Sender <sender@example.test>',
    'To: Demo Recipient <recipient@example.test>',
    `Subject: =?UTF-8?B?${Buffer.from('你好, Postern 👋').toString('base64')}?=`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now()}.demo@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Hello from Postern.',
    '.a line starting with a dot survives dot-stuffing',
    '你好，世界',
    '',
  ].join('\r\n');

  let failures = 0;
  for (const mode of ['starttls', 'implicit'] as const satisfies readonly TlsMode[]) {
    const events: TranscriptEvent[] = [];
    const transport = createTransport({
      host: '127.0.0.1',
      port: ports[mode],
      tls: mode,
      tlsOptions: { ca: ca.cert },
      auth: { user: USER, pass: PASSWORD },
      pool: false,
      transcript: (e) => events.push(e),
    });
    try {
      const result = await transport.sendRaw(
        { from: 'sender@example.test', to: ['recipient@example.test'] },
        message,
      );
      console.log(`── ${mode === 'starttls' ? 'STARTTLS' : 'implicit TLS'} ──`);
      const start = events[0]?.time ?? Date.now();
      for (const e of events) console.log('  ' + formatTranscriptEvent(e, start));
      console.log(
        `  ✔ accepted for ${result.accepted.join(', ')} via ${result.method} over ${result.tls?.version} ${result.tls?.cipher} in ${result.timings.total} ms\n`,
      );
    } catch (err) {
      failures++;
      console.error(`  ✘ ${mode}: ${(err as Error).message}\n`);
    } finally {
      await transport.close();
    }
  }

  console.log('── the last message as the server stored it ──');
  console.log(
    (stored.at(-1) ?? Buffer.alloc(0))
      .toString('utf8')
      .split('\r\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  await Promise.all([
    new Promise<void>((r) => starttlsServer.close(() => r())),
    new Promise<void>((r) => implicitServer.close(() => r())),
  ]);
  if (failures > 0 || stored.length !== 2) {
    console.error(`demo failed: ${failures} send(s) failed, ${stored.length} message(s) stored`);
    process.exit(1);
  }
  console.log('\nDone: two messages sent over TLS with AUTH, nothing left running.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
