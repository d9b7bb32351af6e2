// Postern's server against SMTP clients nobody here wrote: swaks (STARTTLS, implicit TLS, PLAIN, LOGIN,
// CRAM-MD5, pipelining, PROXY protocol), Python's smtplib (SMTP_SSL, starttls, login, send_message of a UTF-8
// message), msmtp, openssl s_client -starttls smtp, and nodemailer. Every accepted message must be in the
// Maildir byte for byte (after the Received header the server adds on top).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { addUser, MaildirStore, SmtpServer, UsersFile } from '../../src/server/index.js';
import { peerSkip, SYSTEM_PYTHON } from '../helpers/peers.js';
import { tempDir } from '../helpers/tmp.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string | Buffer, timeout = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** The stored message without the Received header the server put on top. */
function withoutReceived(data: Buffer): Buffer {
  const text = data.toString('latin1');
  assert.ok(text.startsWith('Received: '));
  return data.subarray(text.search(/\r\n(?![\t ])/) + 2);
}

const PYTHON_CLIENT = `
import copy, email.generator, io, smtplib, ssl, sys, base64
from email.message import EmailMessage
mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
msg = EmailMessage()
msg['From'] = 'Jörg <jörg@bücher.example>'
msg['To'] = 'zoë@example.org'
msg['Subject'] = 'Grüße aus Köln ✓'
msg.set_content('Hällo wörld — ünïcode ✓\\n.leading dot\\n')
if mode == 'ssl':
    s = smtplib.SMTP_SSL('localhost', port, context=ctx)
else:
    s = smtplib.SMTP('localhost', port)
    s.starttls(context=ctx)
s.login('alice', 'correct horse')
s.send_message(msg)
s.quit()
# The bytes send_message put on the wire (before dot-stuffing), made the way smtplib makes them.
copied = copy.copy(msg)
del copied['Bcc']
del copied['Resent-Bcc']
out = io.BytesIO()
email.generator.BytesGenerator(out, policy=msg.policy.clone(utf8=True)).flatten(copied, linesep='\\r\\n')
data = out.getvalue()
if not data.endswith(b'\\r\\n'):
    data += b'\\r\\n'
print(base64.b64encode(data).decode())
`;

describe('server interop with real clients', () => {
  let server: SmtpServer;
  let store: MaildirStore;
  let dir: string;
  let starttls: number;
  let implicit: number;
  let proxied: number;
  let caFile: string;

  before(async () => {
    dir = await tempDir('server-interop');
    const usersFile = join(dir, 'users');
    await addUser(usersFile, 'alice', 'correct horse', { scryptCost: 1024, cramMd5: true });
    store = new MaildirStore(join(dir, 'Maildir'));
    server = new SmtpServer({
      endpoints: [
        { port: 0, tls: 'starttls' },
        { port: 0, tls: 'implicit' },
        { port: 0, tls: 'starttls', proxyProtocol: { trusted: ['127.0.0.1'] } },
      ],
      tls: 'auto',
      dataDir: join(dir, 'data'),
      hostname: 'mx.test',
      auth: { store: await UsersFile.load(usersFile), allowCramMd5: true },
      store,
    });
    const addresses = await server.listen();
    starttls = addresses[0]!.port;
    implicit = addresses[1]!.port;
    proxied = addresses[2]!.port;
    caFile = server.caFile!;
  });
  after(() => server.close({ graceful: false }));

  /** Runs `send` and returns the one message it added to the Maildir. */
  async function newMessage(send: () => Promise<void>): Promise<Buffer> {
    const before = new Set((await store.list()).map((m) => m.id));
    await send();
    const added = (await store.list()).filter((m) => !before.has(m.id));
    assert.equal(added.length, 1, 'exactly one message was stored');
    return store.read(added[0]!.id);
  }

  const message = (name: string) =>
    `From: alice@example.com\r\nTo: bob@example.org\r\nSubject: ${name}\r\n\r\nHello from ${name}.\r\n.leading dot\r\n..two dots\r\n`;

  const swaks = peerSkip('swaks');
  for (const [label, args] of [
    ['STARTTLS, AUTH PLAIN, pipelining', ['--port', 'STARTTLS', '--tls', '--auth', 'PLAIN', '--pipeline']],
    ['STARTTLS, AUTH CRAM-MD5', ['--port', 'STARTTLS', '--tls', '--auth', 'CRAM-MD5']],
    ['implicit TLS, AUTH LOGIN', ['--port', 'IMPLICIT', '--tls-on-connect', '--auth', 'LOGIN']],
  ] as const) {
    test(`swaks: ${label}`, { skip: swaks }, async () => {
      const file = join(dir, `swaks-${label.replace(/\W+/g, '-')}.eml`);
      const body = message(`swaks ${label}`);
      // swaks ends the data with CRLF "." CRLF after whatever it was given, so its input has no final CRLF.
      await writeFile(file, body.slice(0, -2));
      const port = args[1] === 'STARTTLS' ? starttls : implicit;
      const stored = await newMessage(async () => {
        const r = await run('swaks', [
          '--server',
          '127.0.0.1',
          ...args.slice(2),
          '--port',
          String(port),
          '--tls-verify',
          '--tls-ca-path',
          caFile,
          '--tls-sni',
          'localhost',
          '--auth-user',
          'alice',
          '--auth-password',
          'correct horse',
          '--from',
          'alice@example.com',
          '--to',
          'bob@example.org',
          '--data',
          `@${file}`,
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /queued as/);
      });
      assert.equal(withoutReceived(stored).toString('latin1'), body);
      assert.match(stored.toString(), /with ESMTPSA id/);
    });
  }

  test('swaks: PROXY protocol v1 and v2 in front of a session', { skip: swaks }, async () => {
    for (const version of ['1', '2']) {
      const stored = await newMessage(async () => {
        const r = await run('swaks', [
          '--server',
          '127.0.0.1',
          '--port',
          String(proxied),
          '--proxy-version',
          version,
          '--proxy-family',
          version === '1' ? 'TCP4' : 'AF_INET',
          '--proxy-source',
          '203.0.113.9',
          '--proxy-source-port',
          '40000',
          '--proxy-dest',
          '198.51.100.1',
          '--proxy-dest-port',
          '25',
          '--from',
          'alice@example.com',
          '--to',
          'bob@example.org',
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
      });
      assert.match(stored.toString(), /^Received: from \S+ \(\[203\.0\.113\.9\]\)/);
    }
  });

  const python = existsSync(SYSTEM_PYTHON) ? undefined : `${SYSTEM_PYTHON} is not installed`;
  for (const mode of ['ssl', 'starttls'] as const) {
    test(`Python smtplib: ${mode === 'ssl' ? 'SMTP_SSL' : 'starttls()'}, login(), send_message of a UTF-8 message`, {
      skip: python,
    }, async () => {
      let sent = Buffer.alloc(0);
      const stored = await newMessage(async () => {
        const r = await run(SYSTEM_PYTHON, [
          '-c',
          PYTHON_CLIENT,
          mode,
          String(mode === 'ssl' ? implicit : starttls),
          caFile,
        ]);
        assert.equal(r.code, 0, r.stderr);
        sent = Buffer.from(r.stdout.trim(), 'base64');
      });
      assert.ok(sent.length > 0);
      assert.equal(withoutReceived(stored).toString('hex'), sent.toString('hex'));
      assert.ok(stored.toString('utf8').includes('Subject: Grüße aus Köln ✓'));
      assert.match(stored.toString(), /with UTF8SMTPSA id/);
    });
  }

  test('msmtp over STARTTLS with AUTH PLAIN', { skip: peerSkip('msmtp') }, async () => {
    // With Date and Message-ID present msmtp adds no header of its own.
    const body = `Date: Thu, 28 Nov 2024 13:05:12 +0000\r\nMessage-ID: <msmtp.1@example.com>\r\n${message('msmtp')}`;
    const stored = await newMessage(async () => {
      const r = await run(
        'msmtp',
        [
          '--host=127.0.0.1',
          `--port=${starttls}`,
          '--tls=on',
          '--tls-starttls=on',
          `--tls-trust-file=${caFile}`,
          '--tls-host-override=localhost',
          '--auth=plain',
          '--user=alice',
          '--passwordeval=echo correct horse',
          '--domain=msmtp.test',
          '-f',
          'alice@example.com',
          'bob@example.org',
        ],
        body,
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
    assert.equal(withoutReceived(stored).toString('latin1'), body);
  });

  test('openssl s_client -starttls smtp', { skip: peerSkip('openssl') }, async () => {
    const stored = await newMessage(async () => {
      const r = await run(
        'openssl',
        [
          's_client',
          '-starttls',
          'smtp',
          '-connect',
          `127.0.0.1:${starttls}`,
          '-CAfile',
          caFile,
          '-verify_return_error',
          '-verify_hostname',
          'localhost',
          '-crlf',
          '-ign_eof',
          '-quiet',
        ],
        'EHLO s-client.test\nMAIL FROM:<a@example.com>\nRCPT TO:<b@example.org>\nDATA\nSubject: s_client\n\nhello\n.\nQUIT\n',
      );
      assert.match(r.stdout, /250 2\.0\.0 Ok: queued as \w+\r?\n221 /);
    });
    assert.equal(withoutReceived(stored).toString(), 'Subject: s_client\r\n\r\nhello\r\n');
    assert.match(stored.toString(), /with ESMTPS id/);
  });

  for (const [label, secure, method] of [
    ['STARTTLS with AUTH PLAIN', false, 'PLAIN'],
    ['implicit TLS with AUTH LOGIN', true, 'LOGIN'],
  ] as const) {
    test(`nodemailer: ${label}`, async () => {
      const body = message(`nodemailer ${label}`);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: secure ? implicit : starttls,
        secure,
        requireTLS: !secure,
        tls: { ca: server.caCertificate, servername: 'localhost' },
        auth: { user: 'alice', pass: 'correct horse' },
        authMethod: method,
      });
      try {
        const stored = await newMessage(async () => {
          const info = await transport.sendMail({
            envelope: { from: 'alice@example.com', to: ['bob@example.org'] },
            raw: body,
          });
          assert.match(info.response, /^250 2\.0\.0 Ok: queued as /);
        });
        assert.equal(withoutReceived(stored).toString('latin1'), body);
      } finally {
        transport.close();
      }
    });
  }
});
