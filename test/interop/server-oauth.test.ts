// Postern's server with OAuth 2.0 bearer tokens (XOAUTH2 and OAUTHBEARER through the verifyToken hook) against
// clients nobody here wrote: nodemailer, msmtp and Python's smtplib. A good token delivers the message; a bad one
// gets the JSON error challenge in a 334, the client's answer (empty for XOAUTH2, %x01 for OAUTHBEARER per
// RFC 7628 §3.2.2–3.2.3), then 535 5.7.8; no token ever shows in the server's transcript or JSON log lines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { format } from 'node:util';
import nodemailer from 'nodemailer';
import type { TranscriptEvent } from '../../src/core/index.js';
import type { Secret } from '../../src/core/secret.js';
import type { OAuthTokenRejection, SaslCredentialStore } from '../../src/sasl/index.js';
import { jsonLogger } from '../../src/server/index.js';
import { peerSkip, SYSTEM_PYTHON } from '../helpers/peers.js';
import { tempDir } from '../helpers/tmp.js';
import { startServer, type TestServer } from '../integration/server/harness.js';

const USER = 'alice@example.com';
const SCOPE = 'https://mail.test/';
/** Real access tokens are long (JWTs of 1–2 KB), which makes the AUTH line far longer than 512 octets. */
const TOKEN = `ya29.${randomBytes(1200).toString('base64url')}`;
const BAD_TOKEN = `ya29.${randomBytes(1200).toString('base64url')}`;
const ERROR_CHALLENGE = {
  XOAUTH2: JSON.stringify({ status: '401', schemes: 'bearer', scope: SCOPE }),
  OAUTHBEARER: JSON.stringify({ status: 'invalid_token', scope: SCOPE }),
} as const;
const AUTH_FAILED = '535 5.7.8 Authentication credentials invalid';

type Mechanism = keyof typeof ERROR_CHALLENGE;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string, timeout = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
    child.stdin?.end(input ?? '');
  });
}

/** The stored message without the Received header the server put on top. */
function withoutReceived(data: Buffer): string {
  const text = data.toString('latin1');
  assert.ok(text.startsWith('Received: '));
  return text.slice(text.search(/\r\n(?![\t ])/) + 2);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Whether `text` holds `secret`, as is or inside any base64 run (AUTH payloads are base64). */
function holds(text: string, secret: string): boolean {
  if (text.includes(secret)) return true;
  for (const run of text.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? []) {
    if (Buffer.from(run, 'base64').toString('latin1').includes(secret)) return true;
  }
  return false;
}

/** Accepts TOKEN for USER only; a refusal says why in the form each mechanism's clients expect. */
function tokenVerifier(calls: { user: string; mechanism: Mechanism }[]): SaslCredentialStore {
  const expected = Buffer.from(TOKEN, 'utf8');
  return {
    async verifyToken(
      user: string,
      token: Secret,
      mechanism: Mechanism,
    ): Promise<true | OAuthTokenRejection> {
      calls.push({ user, mechanism });
      const given = Buffer.from(token.reveal(), 'utf8');
      const good = given.length === expected.length && timingSafeEqual(given, expected);
      if (user === USER && good) return true;
      return JSON.parse(ERROR_CHALLENGE[mechanism]) as OAuthTokenRejection;
    },
  };
}

// One AUTH with a hand-made authobject, so the test sees each challenge and chooses each answer; then, when
// authenticated, one message. Prints {"code", "text", "challenges", "refused"} as JSON.
const PYTHON_CLIENT = `
import json, smtplib, ssl, sys
mode, port, ca, mech, user, token, initial, message = sys.argv[1:9]
port = int(port)
ctx = ssl.create_default_context(cafile=ca)
if mode == 'ssl':
    s = smtplib.SMTP_SSL('localhost', port, context=ctx)
else:
    s = smtplib.SMTP('localhost', port)
    s.starttls(context=ctx)
s.ehlo('python.test')
challenges = []
sent = []
def authobject(challenge=None):
    if not sent:
        sent.append(True)
        if challenge is not None:
            challenges.append(challenge.decode())
        if mech == 'XOAUTH2':
            return 'user=%s\\x01auth=Bearer %s\\x01\\x01' % (user, token)
        # RFC 7628 section 3.1: GS2 header with the authzid, then host, port and the token.
        return 'n,a=%s,\\x01host=localhost\\x01port=%d\\x01auth=Bearer %s\\x01\\x01' % (user, port, token)
    challenges.append(challenge.decode())
    # The error challenge is answered with an empty response (XOAUTH2) or a single %x01 (RFC 7628 3.2.2).
    return '' if mech == 'XOAUTH2' else '\\x01'
refused = None
try:
    code, text = s.auth(mech, authobject, initial_response_ok=(initial == 'initial'))
    refused = s.sendmail(user, ['bob@example.org'], message.encode())
except smtplib.SMTPAuthenticationError as e:
    code, text = e.smtp_code, e.smtp_error
s.quit()
print(json.dumps({'code': code, 'text': text.decode(), 'challenges': challenges, 'refused': refused}))
`;

describe('server OAuth (XOAUTH2, OAUTHBEARER) with real clients', () => {
  let t: TestServer;
  let caFile: string;
  const verified: { user: string; mechanism: Mechanism }[] = [];
  /** Transcript lines per session id, in order. */
  const sessions = new Map<string, string[]>();
  const transcript: TranscriptEvent[] = [];
  const logLines: string[] = [];

  before(async () => {
    const dir = await tempDir('server-oauth');
    const logOut = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    t = await startServer({
      endpoints: [
        { port: 0, tls: 'starttls' },
        { port: 0, tls: 'implicit' },
      ],
      auth: { store: tokenVerifier(verified) },
      logger: jsonLogger(logOut, 'debug'),
      transcript: (event, session) => {
        transcript.push(event);
        if (event.type !== 'line') return;
        const lines = sessions.get(session.id) ?? [];
        lines.push(`${event.direction} ${event.line}`);
        sessions.set(session.id, lines);
      },
    });
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, t.ca);
  });
  after(() => t?.close());

  /** Runs `client`; returns the messages it added to the store and the transcripts of its sessions. */
  async function observe(client: () => Promise<void>): Promise<{ stored: Buffer[]; lines: string[][] }> {
    const storedBefore = t.store.messages.length;
    const sessionsBefore = new Set(sessions.keys());
    await client();
    return {
      stored: t.store.messages.slice(storedBefore).map((m) => m.data),
      lines: [...sessions].filter(([id]) => !sessionsBefore.has(id)).map(([, lines]) => lines),
    };
  }

  /** The server side of a refused token: AUTH, the JSON error in a 334, the client's answer, then 535. */
  function assertRefusedExchange(lines: readonly string[], mechanism: Mechanism): void {
    const at = lines.indexOf(`out 334 ${b64(ERROR_CHALLENGE[mechanism])}`);
    assert.ok(at > 0, `the error challenge was sent: ${lines.join(' | ')}`);
    assert.match(lines[at - 1]!, new RegExp(`^in (AUTH ${mechanism} \\[redacted\\]|\\[redacted\\])$`));
    assert.deepEqual(lines.slice(at + 1, at + 3), ['in [redacted]', `out ${AUTH_FAILED}`]);
  }

  /** Exactly one message arrived, byte for byte, sent by USER after AUTH (ESMTPSA). */
  function assertDelivered(stored: readonly Buffer[], body: string): void {
    assert.equal(stored.length, 1, 'exactly one message was stored');
    assert.equal(withoutReceived(stored[0]!), body);
    assert.match(stored[0]!.toString('latin1'), /with ESMTPSA id/);
    const held = t.store.messages.find((m) => m.data === stored[0]);
    assert.equal(held?.info.envelope.mailFrom.address, USER);
  }

  const message = (name: string) =>
    `Date: Thu, 28 Nov 2024 13:05:12 +0000\r\nMessage-ID: <${name.replace(/\W+/g, '.')}@example.com>\r\n` +
    `From: ${USER}\r\nTo: bob@example.org\r\nSubject: ${name}\r\n\r\nHello from ${name}.\r\n`;

  test('EHLO under TLS offers exactly the two bearer mechanisms', async () => {
    const r = await run(SYSTEM_PYTHON, [
      '-c',
      `import smtplib, ssl, sys
s = smtplib.SMTP('localhost', int(sys.argv[1]))
s.starttls(context=ssl.create_default_context(cafile=sys.argv[2]))
s.ehlo('python.test')
print(s.esmtp_features.get('auth', ''))
s.quit()`,
      String(t.port(0)),
      caFile,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'OAUTHBEARER XOAUTH2');
  });

  describe('nodemailer (XOAUTH2)', () => {
    function transport(accessToken: string, log: { tnx: string; text: string }[]) {
      const record = (entry: { tnx?: string }, ...args: unknown[]) =>
        log.push({ tnx: entry?.tnx ?? '', text: format(...args) });
      return nodemailer.createTransport({
        host: '127.0.0.1',
        port: t.port(0),
        secure: false,
        requireTLS: true,
        tls: { ca: t.ca, servername: 'localhost' },
        auth: { type: 'OAuth2', user: USER, accessToken },
        debug: true,
        logger: {
          level: () => {},
          trace: record,
          debug: record,
          info: record,
          warn: record,
          error: record,
          fatal: record,
        },
      });
    }

    test('a good token authenticates and the message is stored', async () => {
      const body = message('nodemailer xoauth2');
      const log: { tnx: string; text: string }[] = [];
      const mailer = transport(TOKEN, log);
      try {
        const { stored } = await observe(async () => {
          const info = await mailer.sendMail({
            envelope: { from: USER, to: ['bob@example.org'] },
            raw: body,
          });
          assert.match(info.response, /^250 2\.0\.0 Ok: queued as /);
        });
        assertDelivered(stored, body);
        assert.ok(log.some((l) => l.tnx === 'client' && l.text.startsWith('AUTH XOAUTH2 ')));
        assert.ok(log.some((l) => l.tnx === 'server' && l.text === '235 2.7.0 Authentication successful'));
      } finally {
        mailer.close();
      }
    });

    test('a bad token: 334 with the JSON error, the empty answer, then 535', async () => {
      const log: { tnx: string; text: string }[] = [];
      const mailer = transport(BAD_TOKEN, log);
      try {
        const { stored, lines } = await observe(async () => {
          await assert.rejects(
            mailer.sendMail({ envelope: { from: USER, to: ['bob@example.org'] }, raw: message('never') }),
            (err: { code?: string; responseCode?: number; response?: string }) => {
              assert.equal(err.code, 'EAUTH');
              assert.equal(err.responseCode, 535);
              assert.equal(err.response, AUTH_FAILED);
              return true;
            },
          );
        });
        assert.equal(stored.length, 0);
        // What nodemailer saw and said: the challenge, its empty answer, the 535.
        const exchange = log.filter((l) => l.tnx === 'client' || l.tnx === 'server');
        const at = exchange.findIndex((l) => l.text === `334 ${b64(ERROR_CHALLENGE.XOAUTH2)}`);
        assert.ok(at > 0, 'nodemailer received the error challenge');
        assert.deepEqual(exchange.slice(at + 1, at + 3), [
          { tnx: 'client', text: '' },
          { tnx: 'server', text: AUTH_FAILED },
        ]);
        assert.equal(lines.length, 1);
        assertRefusedExchange(lines[0]!, 'XOAUTH2');
      } finally {
        mailer.close();
      }
    });
  });

  const msmtp = peerSkip('msmtp');
  for (const [mechanism, implicit] of [
    ['OAUTHBEARER', true],
    ['XOAUTH2', false],
  ] as const) {
    const msmtpArgs = (token: string) => [
      '--host=127.0.0.1',
      `--port=${t.port(implicit ? 1 : 0)}`,
      '--tls=on',
      `--tls-starttls=${implicit ? 'off' : 'on'}`,
      `--tls-trust-file=${caFile}`,
      '--tls-host-override=localhost',
      `--auth=${mechanism.toLowerCase()}`,
      `--user=${USER}`,
      // As a user would wire in a token from a helper script; the token is a shell-safe base64url string.
      `--passwordeval=echo ${token}`,
      '--domain=msmtp.test',
      '--debug',
      '-f',
      USER,
      'bob@example.org',
    ];
    const label = `msmtp ${mechanism} over ${implicit ? 'implicit TLS' : 'STARTTLS'}`;

    test(`${label}: a good token authenticates and the message is stored`, { skip: msmtp }, async () => {
      const body = message(label);
      const { stored } = await observe(async () => {
        const r = await run('msmtp', msmtpArgs(TOKEN), body);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^<-- 235 2\.7\.0 /m);
      });
      assertDelivered(stored, body);
    });

    test(`${label}: a bad token gets the JSON error challenge, then 535`, { skip: msmtp }, async () => {
      const { stored, lines } = await observe(async () => {
        const r = await run('msmtp', msmtpArgs(BAD_TOKEN), message('never'));
        assert.equal(r.code, 77, 'EX_NOPERM: authentication failed');
        assert.match(r.stderr, new RegExp(`authentication failed \\(method ${mechanism}\\)`));
        assert.match(r.stderr, /server message: 535 5\.7\.8 /);
        // msmtp answers the challenge with an empty line for both mechanisms (not %x01 for OAUTHBEARER); the
        // server accepts either answer, so the exchange still ends in 535 rather than hanging or 501.
        const debug = r.stdout.split(/\r?\n/);
        const at = debug.indexOf(`<-- 334 ${b64(ERROR_CHALLENGE[mechanism])}`);
        assert.ok(at > 0, 'msmtp received the error challenge');
        assert.deepEqual(debug.slice(at + 1, at + 3), ['--> ', `<-- ${AUTH_FAILED}`]);
      });
      assert.equal(stored.length, 0);
      assert.equal(lines.length, 1);
      assertRefusedExchange(lines[0]!, mechanism);
    });
  }

  const python = existsSync(SYSTEM_PYTHON) ? undefined : `${SYSTEM_PYTHON} is not installed`;
  for (const [mechanism, mode, initial] of [
    ['XOAUTH2', 'starttls', 'initial'],
    ['OAUTHBEARER', 'ssl', 'initial'],
    ['OAUTHBEARER', 'starttls', 'no-initial'],
  ] as const) {
    const label =
      `Python smtplib ${mechanism} over ${mode === 'ssl' ? 'SMTP_SSL' : 'starttls()'}` +
      (initial === 'initial' ? '' : ', without an initial response');
    const python3 = (token: string, body: string) =>
      run(SYSTEM_PYTHON, [
        '-c',
        PYTHON_CLIENT,
        mode,
        String(t.port(mode === 'ssl' ? 1 : 0)),
        caFile,
        mechanism,
        USER,
        token,
        initial,
        body,
      ]);

    test(`${label}: a good token authenticates and the message is stored`, { skip: python }, async () => {
      const body = message(label);
      const { stored } = await observe(async () => {
        const r = await python3(TOKEN, body);
        assert.equal(r.code, 0, r.stderr);
        const result = JSON.parse(r.stdout) as {
          code: number;
          text: string;
          challenges: string[];
          refused: unknown;
        };
        // Without an initial response the server first sends an empty 334; smtplib does not record it.
        assert.deepEqual(result, {
          code: 235,
          text: '2.7.0 Authentication successful',
          challenges: initial === 'initial' ? [] : [''],
          refused: {},
        });
      });
      assertDelivered(stored, body);
    });

    test(`${label}: a bad token gets the JSON error challenge, then 535`, { skip: python }, async () => {
      const { stored, lines } = await observe(async () => {
        const r = await python3(BAD_TOKEN, message('never'));
        assert.equal(r.code, 0, r.stderr);
        const result = JSON.parse(r.stdout) as { code: number; text: string; challenges: string[] };
        assert.equal(result.code, 535);
        assert.equal(result.text, '5.7.8 Authentication credentials invalid');
        const expected = [ERROR_CHALLENGE[mechanism]];
        assert.deepEqual(result.challenges, initial === 'initial' ? expected : ['', ...expected]);
      });
      assert.equal(stored.length, 0);
      assert.equal(lines.length, 1);
      assertRefusedExchange(lines[0]!, mechanism);
    });
  }

  test('the verifier saw the right user and mechanism; the tokens never reach the transcript or logs', () => {
    assert.ok(verified.length > 0);
    for (const call of verified) assert.equal(call.user, USER);
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const authOk = logged.filter((l) => l['msg'] === 'auth').map((l) => `${l['user']} ${l['mechanism']}`);
    const authFailed = logged.filter((l) => l['msg'] === 'auth failed').map((l) => l['reason']);
    assert.ok(authOk.includes(`${USER} XOAUTH2`) && authOk.includes(`${USER} OAUTHBEARER`), String(authOk));
    assert.ok(authFailed.length > 0 && authFailed.every((reason) => reason === 'credentials'));
    const texts = [...transcript.map((event) => JSON.stringify(event)), ...logLines];
    for (const [name, secret] of [
      ['the good token', TOKEN],
      ['the bad token', BAD_TOKEN],
    ] as const) {
      assert.ok(!texts.some((text) => holds(text, secret)), `${name} is in the transcript or logs`);
    }
    // Every AUTH payload line is redacted; only the mechanism shows.
    const lines = transcript.flatMap((e) => (e.type === 'line' && e.direction === 'in' ? [e.line] : []));
    for (const line of lines.filter((l) => /^AUTH /i.test(l))) {
      assert.match(line, /^AUTH (XOAUTH2|OAUTHBEARER)( \[redacted\])?$/);
    }
  });
});
