// Postfix (Debian) relaying to Postern's server: mail for relay.test, submitted to a private Postfix, goes out
// through Postfix's smtp(8) client to our SmtpServer with STARTTLS — smtp_tls_security_level=encrypt, and
// verify against the test CA. The message must land in our Maildir byte for byte under the two trace headers
// (Postfix's Received, then ours, which must show TLS), and Postfix's maillog must show the TLS session.
// A server certificate for another name must make 'verify' hold the mail back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTransport } from '../../src/index.js';
import { MaildirStore, SmtpServer, type StoredMessage } from '../../src/server/index.js';
import { createCertificate } from '../../src/tls/certificates.js';
import { testPki } from '../helpers/certs.js';
import { peerSkip } from '../helpers/peers.js';
import { type PostfixInstance, type PostfixRelay, startPostfix } from '../helpers/postfix.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

const skip = peerSkip('postfix', 'dovecot');
const DOMAIN = 'relay.test';
const HOSTNAME = 'mx.relay.test';

type TlsLevel = NonNullable<PostfixRelay['tlsLevel']>;

/** 8-bit UTF-8, lines that need dot-stuffing, a tab and a trailing space: all must survive two hops. */
function message(tag: string): Buffer {
  return Buffer.from(
    [
      'From: Alice <alice@example.test>',
      `To: Bob <bob@${DOMAIN}>`,
      `Subject: relayed ${tag}`,
      'Date: Thu, 28 Nov 2024 13:05:12 +0000',
      `Message-ID: <${tag}.${Date.now()}@example.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Relayed by Postfix at ${tag}.`,
      '.leading dot',
      '..two dots',
      '.',
      'Grüße aus Köln — 你好\tand a trailing space ',
      '',
    ].join('\r\n'),
  );
}

/** The Received fields on top of a stored message (with their folded lines), and the bytes after them. */
function splitTrace(stored: Buffer): { trace: string[]; rest: Buffer } {
  const text = stored.toString('latin1');
  const trace: string[] = [];
  let at = 0;
  while (text.startsWith('Received:', at)) {
    let end = text.indexOf('\r\n', at);
    while (end !== -1 && (text[end + 2] === ' ' || text[end + 2] === '\t'))
      end = text.indexOf('\r\n', end + 2);
    assert.ok(end !== -1, 'a trace header without its line end');
    trace.push(stored.subarray(at, end + 2).toString('utf8'));
    at = end + 2;
  }
  return { trace, rest: stored.subarray(at) };
}

const regexpText = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Our server with a Maildir, and a private Postfix relaying relay.test to it. */
class Relay {
  dir!: string;
  store!: MaildirStore;
  server!: SmtpServer;
  pf!: PostfixInstance;
  port!: number;

  async start(level: TlsLevel, certificate: { cert: string; key: string }): Promise<void> {
    const pki = await testPki();
    this.dir = await tempDir('postfix-relay');
    this.store = new MaildirStore(join(this.dir, 'Maildir'));
    this.server = new SmtpServer({
      endpoints: [{ port: 0, tls: 'starttls' }],
      tls: certificate,
      hostname: HOSTNAME,
      store: this.store,
    });
    this.port = (await this.server.listen())[0]!.port;
    this.pf = await startPostfix({
      relay: { domain: DOMAIN, host: '127.0.0.1', port: this.port, caFile: pki.caFile, tlsLevel: level },
    });
  }

  async stop(): Promise<void> {
    await this.pf?.stop();
    await this.server?.close({ graceful: false });
    if (this.dir) await removeTempDir(this.dir);
  }

  /** Submits `sent` to Postfix's port-25 style listener: no AUTH, relay.test is one of its relay_domains. */
  async submit(sent: Buffer): Promise<void> {
    const transport = createTransport({
      host: '127.0.0.1',
      port: this.pf.ports.smtp,
      tls: 'starttls',
      tlsOptions: { ca: (await testPki()).caCert, servername: 'localhost' },
      pool: false,
      retry: false,
    });
    try {
      const result = await transport.sendRaw({ from: 'alice@example.test', to: [`bob@${DOMAIN}`] }, sent);
      assert.deepEqual(result.accepted, [`bob@${DOMAIN}`]);
    } finally {
      await transport.close();
    }
  }

  /** Waits until the maillog matches `pattern` (Postfix logs each delivery attempt's outcome). */
  async waitForLog(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const log = await this.pf.log();
      if (pattern.test(log)) return log;
      if (Date.now() > deadline) assert.fail(`no ${pattern} in the maillog after 20 s:\n${log.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async waitForMessage(): Promise<StoredMessage> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [first] = await this.store.list();
      if (first) return first;
      if (Date.now() > deadline) {
        assert.fail(
          `nothing arrived from Postfix in 20 s\n--- maillog ---\n${(await this.pf.log()).slice(-3000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const DELIVERED: readonly { level: TlsLevel; logged: string }[] = [
  // encrypt: TLS is required; the chain is checked against the CA file, but no name is.
  { level: 'encrypt', logged: '(?:Untrusted|Trusted|Anonymous)' },
  // verify: the chain must lead to smtp_tls_CAfile and 127.0.0.1 must be in the certificate.
  { level: 'verify', logged: 'Verified' },
];

for (const { level, logged } of DELIVERED) {
  describe(`Postfix relays to Postern's server (smtp_tls_security_level=${level})`, { skip }, () => {
    const relay = new Relay();
    before(async () => {
      const pki = await testPki();
      await relay.start(level, { cert: pki.serverCert, key: pki.serverKey });
    });
    after(() => relay.stop());

    test('the message arrives byte-exact under the trace headers, over TLS', async () => {
      const sent = message(level);
      await relay.submit(sent);

      const stored = await relay.waitForMessage();
      assert.equal(stored.envelope.mailFrom.address, 'alice@example.test');
      assert.deepEqual(
        stored.envelope.rcptTo.map((r) => r.address),
        [`bob@${DOMAIN}`],
      );
      const { trace, rest } = splitTrace(await relay.store.read(stored.id));
      assert.deepEqual(rest, sent, 'the stored message after the trace headers is the submitted one');
      assert.equal(trace.length, 2, `two trace headers, ours and Postfix's:\n${trace.join('')}`);
      const [ours, postfix] = trace as [string, string];
      assert.match(ours, /^Received: from mail\.example\.test \(\[127\.0\.0\.1\]\)\r\n/);
      assert.match(
        ours,
        new RegExp(`\\tby ${regexpText(HOSTNAME)} \\(Postern\\) with ESMTPS id ${stored.id}\\r\\n`),
      );
      assert.match(ours, /\t\(version=TLSv1\.[23] cipher=[A-Z0-9_-]+ bits=\d+\)\r\n/);
      assert.match(ours, new RegExp(`\\tfor <bob@${regexpText(DOMAIN)}>; `));
      assert.match(postfix, /^Received: from .*\r\n\tby mail\.example\.test \(Postfix\) with ESMTPS id /s);

      const to = `127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${relay.port}`;
      const log = await relay.waitForLog(
        new RegExp(`status=sent \\(250 2\\.0\\.0 Ok: queued as ${stored.id}\\)`),
      );
      assert.match(
        log,
        new RegExp(`${logged} TLS connection established to ${to}: TLSv1\\.[23] with cipher `),
      );
      assert.match(log, new RegExp(`to=<bob@${regexpText(DOMAIN)}>, relay=${to}, .*status=sent`));
    });
  });
}

describe("Postfix at 'verify' refuses a server certificate for another name", { skip }, () => {
  const relay = new Relay();
  before(async () => {
    const pki = await testPki();
    const other = await createCertificate({
      commonName: 'other.example',
      altNames: ['DNS:other.example'],
      days: 2,
      issuer: { cert: pki.caCert, key: pki.caKey },
    });
    await relay.start('verify', { cert: other.cert, key: other.key });
  });
  after(() => relay.stop());

  test('the mail is deferred and nothing reaches the Maildir', async () => {
    await relay.submit(message('wrong-name'));
    const log = await relay.waitForLog(/status=deferred/);
    assert.match(
      log,
      /server certificate verification failed for 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: .*mismatch/,
    );
    assert.match(log, /status=deferred \(Server certificate not verified\)/);
    assert.doesNotMatch(log, /status=sent/);
    assert.deepEqual(await relay.store.list(), []);
  });
});
