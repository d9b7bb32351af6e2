// `postern send` as a user runs it: the real process against smtp-server (Nodemailer's) on loopback — every flag
// family, the --json schema, the -v transcript, and the exit codes from real causes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { simpleParser } from 'mailparser';
import { createCertificate } from '../../src/tls/index.js';
import { testPki } from '../helpers/certs.js';
import { freePort } from '../helpers/ports.js';
import { startScriptedServer } from '../helpers/scripted-server.js';
import { RejectMessage, type SmtpServerInstance, startSmtpServer } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/tmp.js';
import { ROOT, runCli } from './cli.js';

const PASSWORD = 'Tr0ub4dor&3-cli-secret';
const TOKEN = 'ya29.cli-oauth-token';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/send-result.schema.json'), 'utf8'));
const validate = new Ajv2020({ strict: true, validateFormats: false, allErrors: true }).compile(schema);

function assertSchema(value: unknown): void {
  assert.ok(
    validate(value),
    `does not match docs/send-result.schema.json: ${JSON.stringify(validate.errors)}`,
  );
}

/** Every form the password could leak in: as is, and inside an AUTH PLAIN or LOGIN payload. */
function assertNoPassword(text: string, what: string): void {
  for (const form of [
    PASSWORD,
    Buffer.from(PASSWORD).toString('base64'),
    Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'),
  ]) {
    assert.ok(!text.includes(form), `${what} contains the password (${form.slice(0, 6)}…)`);
  }
}

describe('postern send against smtp-server', { concurrency: 4 }, () => {
  let server: SmtpServerInstance;
  let home: string;
  let caFile: string;
  let base: string[];
  const env = { SMTP_PASS: PASSWORD, WRONG_PASS: 'not-the-password' };

  before(async () => {
    home = await tempDir('cli-send');
    server = await startSmtpServer({
      users: [{ name: 'alice', password: PASSWORD, accessToken: TOKEN }],
      authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      serverOptions: {
        onRcptTo(address, _session, callback) {
          if (address.address.startsWith('nobody@')) {
            callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
          } else callback();
        },
      },
      onData(message) {
        if (message.envelope.rcptTo.some((r) => r.startsWith('later@')))
          throw new RejectMessage('try again later', 451);
      },
    });
    caFile = server.caFile;
    base = ['--host', '127.0.0.1', '--port', String(server.port), '--ca', caFile];
    await writeFile(join(home, 'report.txt'), 'quarterly numbers\n');
    await writeFile(join(home, 'body.txt'), 'body from a file\n');
    await writeFile(join(home, 'page.html'), '<p>hello <b>world</b></p>\n');
  });
  after(async () => {
    await server?.stop();
  });

  const auth = () => ['--user', 'alice', '--password-env', 'SMTP_PASS'];
  const send = (
    args: string[],
    extra: Parameters<typeof runCli>[1] extends infer O ? Partial<O> : never = {},
  ) => runCli(['send', ...args], { home, ...extra, env: { ...env, ...extra.env } });

  /** The stored message sent to a recipient with this tag in its address. */
  const stored = (tag: string) => {
    const found = server.messages.find((m) => m.envelope.rcptTo.some((r) => r.includes(tag)));
    assert.ok(found, `no message for ${tag}`);
    return found;
  };

  test('a UTF-8 message with attachment, Cc, Bcc and a header over STARTTLS with AUTH', async () => {
    const run = await send([
      ...base,
      ...auth(),
      '--from',
      'Zoë <zoe@example.com>',
      '--to',
      'to1@example.org, "Smith, Bob" <to2@example.org>',
      '--cc',
      'cc1@example.org',
      '--bcc',
      'hidden1@example.org',
      '--subject',
      '季度报告 — Zürich',
      '--text',
      'Grüße, 你好',
      '--attach',
      join(home, 'report.txt'),
      '--header',
      'X-Campaign: spring',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /sent to all 4 recipients/);
    assert.match(run.stdout, /TLSv1\.[23]/);
    assert.match(run.stdout, /CN=localhost/);
    const message = stored('hidden1@');
    assert.deepEqual(message.envelope.rcptTo.sort(), [
      'cc1@example.org',
      'hidden1@example.org',
      'to1@example.org',
      'to2@example.org',
    ]);
    assert.equal(message.user, 'alice');
    assert.equal(message.secure, true);
    const text = message.data.toString('utf8');
    assert.match(text, /^X-Campaign: spring\r$/m);
    assert.match(text, /filename=report\.txt/);
    assert.doesNotMatch(text, /^Bcc:/im);
    assert.match(text, /^Subject: .*季度报告|^Subject: =\?utf-8\?/m);
  });

  test('--json validates against the schema: success, partial delivery (79) and failures', async () => {
    const ok = await send([
      ...base,
      ...auth(),
      '--json',
      '--from',
      'a@example.com',
      '--to',
      'json1@example.org',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const okJson = JSON.parse(ok.stdout);
    assertSchema(okJson);
    assert.equal(okJson.ok, true);
    assert.deepEqual(okJson.accepted, ['json1@example.org']);
    assert.match(okJson.messageId, /^<.+@example\.com>$/);
    assert.match(okJson.tls.version, /^TLSv1\.[23]$/);
    assert.equal(okJson.tls.certificate.subject, 'CN=localhost');

    const partial = await send([
      ...base,
      ...auth(),
      '--json',
      '--from',
      'a@example.com',
      '--to',
      'json2@example.org,nobody@example.org',
    ]);
    assert.equal(partial.code, 79, partial.stderr);
    const partialJson = JSON.parse(partial.stdout);
    assertSchema(partialJson);
    assert.equal(partialJson.ok, false);
    assert.equal(partialJson.exitCode, 79);
    assert.deepEqual(partialJson.accepted, ['json2@example.org']);
    assert.equal(partialJson.rejected[0].address, 'nobody@example.org');
    assert.equal(partialJson.rejected[0].reply.code, 550);

    const failed = await send([
      ...base,
      '--user',
      'alice',
      '--password-env',
      'WRONG_PASS',
      '--json',
      '--from',
      'a@example.com',
      '--to',
      'x@example.org',
    ]);
    assert.equal(failed.code, 77);
    const failedJson = JSON.parse(failed.stdout);
    assertSchema(failedJson);
    assert.equal(failedJson.error.code, 'EAUTH_FAILED');
    assert.equal(failedJson.error.reply.code, 535);

    const usage = await send(['--json', '--to', 'x@example.org']);
    assert.equal(usage.code, 64);
    const usageJson = JSON.parse(usage.stdout);
    assertSchema(usageJson);
    assert.equal(usageJson.server, null);
  });

  test('-v prints the transcript with arrows and times, AUTH redacted; the password is nowhere', async () => {
    for (const mechanism of ['PLAIN', 'LOGIN']) {
      const run = await send([
        ...base,
        ...auth(),
        '-v',
        '--auth',
        mechanism,
        '--from',
        'a@example.com',
        '--to',
        `verbose-${mechanism}@example.org`,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /^\s+\d+\.\d{3}s → +EHLO /m);
      assert.match(run.stderr, /^\s+\d+\.\d{3}s ← +220 /m);
      assert.match(run.stderr, /→ 🔒 MAIL FROM:<a@example\.com>/);
      assert.match(run.stderr, /TLS established: TLSv1\.[23]/);
      assert.match(
        run.stderr,
        mechanism === 'PLAIN' ? /→ 🔒 AUTH PLAIN \[redacted\]/ : /→ 🔒 AUTH LOGIN\n.*\n.*→ 🔒 \[redacted\]/,
      );
      assertNoPassword(run.stdout + run.stderr, `-v output with ${mechanism}`);
    }
  });

  test('the password is never in the process arguments (/proc/PID/cmdline)', async () => {
    const seen: string[] = [];
    const run = await send([...base, ...auth(), '--from', 'a@example.com', '--to', 'argv@example.org'], {
      onSpawn: (child) => {
        seen.push(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'));
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /--password-env\0SMTP_PASS\0/);
    assertNoPassword(seen[0]!, 'the command line');
    assertNoPassword(run.stdout + run.stderr, 'the output');
  });

  test('--password VALUE is refused, saying why, without repeating the value', async () => {
    for (const flag of ['--password', '--pass', '--auth-password']) {
      const run = await send([
        ...base,
        '--user',
        'alice',
        flag,
        PASSWORD,
        '--from',
        'a@example.com',
        '--to',
        'b@x.org',
      ]);
      assert.equal(run.code, 64);
      assert.match(run.stderr, /not accepted as a command-line value.*\(ps, \/proc\)/);
      assert.match(run.stderr, /--password-env/);
      assertNoPassword(run.stdout + run.stderr, `the refusal of ${flag}`);
    }
    const inUrl = await send([
      '--server',
      `smtp://alice:${PASSWORD}@127.0.0.1:${server.port}`,
      '--from',
      'a@example.com',
      '--to',
      'b@x.org',
    ]);
    assert.equal(inUrl.code, 64);
    assertNoPassword(inUrl.stdout + inUrl.stderr, 'the refusal of a password in --server');
  });

  test('password sources: --password-file, --password-cmd, POSTERN_PASSWORD, a config account', async () => {
    const file = join(home, 'pass.txt');
    await writeFile(file, `${PASSWORD}\nsecond line ignored\n`, { mode: 0o600 });
    const common = ['--from', 'a@example.com'];
    const viaFile = await send([
      ...base,
      '--user',
      'alice',
      '--password-file',
      file,
      ...common,
      '--to',
      'pf@example.org',
    ]);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    const viaCmd = await send([
      ...base,
      '--user',
      'alice',
      '--password-cmd',
      `printf '%s\\n' "$SMTP_PASS"`,
      ...common,
      '--to',
      'pc@example.org',
    ]);
    assert.equal(viaCmd.code, 0, viaCmd.stderr);
    const viaEnv = await send([...base, ...common, '--to', 'pe@example.org'], {
      env: { POSTERN_USER: 'alice', POSTERN_PASSWORD: PASSWORD },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const failingCmd = await send([
      ...base,
      '--user',
      'alice',
      '--password-cmd',
      'exit 3',
      ...common,
      '--to',
      'x@example.org',
    ]);
    assert.equal(failingCmd.code, 78);
    assert.match(failingCmd.stderr, /--password-cmd: the command exited with status 3/);
    const missingFile = await send([
      ...base,
      '--user',
      'alice',
      '--password-file',
      join(home, 'nope'),
      ...common,
      '--to',
      'x@x.org',
    ]);
    assert.equal(missingFile.code, 66);
  });

  test('config file accounts, [defaults], --account, and POSTERN_SERVER', async () => {
    const config = join(home, 'config.toml');
    await writeFile(
      config,
      [
        'default = "local"',
        '[defaults]',
        `ca = "${caFile}"`,
        '[accounts.local]',
        'host = "127.0.0.1"',
        `port = ${server.port}`,
        'user = "alice"',
        'password-env = "SMTP_PASS"',
        'from = "Config <config@example.com>"',
        '[accounts.broken]',
        'host = "127.0.0.1"',
        `port = ${server.port}`,
        'user = "alice"',
        'password-env = "WRONG_PASS"',
        '',
      ].join('\n'),
    );
    const viaDefault = await send(['--config', config, '--to', 'cfg1@example.org']);
    assert.equal(viaDefault.code, 0, viaDefault.stderr);
    assert.equal(stored('cfg1@').envelope.mailFrom, 'config@example.com');
    const viaAccount = await send([
      '--config',
      config,
      '--account',
      'broken',
      '--from',
      'a@example.com',
      '--to',
      'cfg2@example.org',
    ]);
    assert.equal(viaAccount.code, 77);
    const unknown = await send(['--config', config, '--account', 'nope', '--to', 'x@example.org']);
    assert.equal(unknown.code, 78);
    assert.match(unknown.stderr, /accounts there: local, broken/);
    // The environment naming the server.
    const viaEnv = await send(
      [...auth(), '--ca', caFile, '--from', 'a@example.com', '--to', 'cfg3@example.org'],
      {
        env: { POSTERN_SERVER: `smtp://127.0.0.1:${server.port}` },
      },
    );
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const badToml = join(home, 'bad.toml');
    await writeFile(badToml, `[accounts.x]\nuser = ${PASSWORD}\n`);
    const bad = await send(['--config', badToml, '--to', 'x@example.org']);
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /line 2/);
    assertNoPassword(bad.stderr, 'a config parse error');
    const exposed = join(home, 'exposed.toml');
    await writeFile(exposed, `[accounts.x]\npassword = "${PASSWORD}"\n`);
    await chmod(exposed, 0o644);
    const refused = await send(['--config', exposed, '--account', 'x', '--to', 'x@example.org']);
    assert.equal(refused.code, 78);
    assert.match(refused.stderr, /chmod 600/);
  });

  test('body sources: stdin, --text-file, --html-file; --raw sends a file byte for byte', async () => {
    const piped = await send([...base, ...auth(), '--from', 'a@example.com', '--to', 'stdin@example.org'], {
      stdin: 'body from stdin\n',
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal((await simpleParser(stored('stdin@').data)).text, 'body from stdin\n');
    const files = await send([
      ...base,
      ...auth(),
      '--from',
      'a@example.com',
      '--to',
      'files@example.org',
      '--text-file',
      join(home, 'body.txt'),
      '--html-file',
      join(home, 'page.html'),
    ]);
    assert.equal(files.code, 0, files.stderr);
    const parsed = await simpleParser(stored('files@').data);
    assert.equal(parsed.text, 'body from a file\n');
    assert.match(String(parsed.html), /<b>world<\/b>/);

    const raw =
      'From: Ann <ann@example.com>\r\nTo: raw1@example.org\r\nCc: "Doe, J" <raw2@example.org>\r\nSubject: raw\r\n\r\nas is\r\n';
    const eml = join(home, 'message.eml');
    await writeFile(eml, raw);
    const sent = await send([...base, ...auth(), '--raw', eml, '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(JSON.parse(sent.stdout).envelope, {
      from: 'ann@example.com',
      to: ['raw1@example.org', 'raw2@example.org'],
    });
    assert.equal(stored('raw1@').data.toString(), raw);
    const clash = await send([...base, '--raw', eml, '--subject', 'x']);
    assert.equal(clash.code, 64);
  });

  test('--dry-run prints the composed (DKIM-signed) message and sends nothing', async () => {
    const key = join(home, 'dkim.pem');
    const { key: pem } = await createCertificate({ commonName: 'dkim', keyType: 'rsa2048' });
    await writeFile(key, pem, { mode: 0o600 });
    const run = await send([
      '--dry-run',
      '--from',
      'Ann <ann@example.com>',
      '--to',
      'dry@example.org',
      '--subject',
      'Grüße',
      '--text',
      'hi',
      '--dkim-key',
      key,
      '--dkim-selector',
      'sel1',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.com; s=sel1;/,
    );
    assert.match(run.stdout, /^Subject: =\?utf-8\?/m);
    assert.match(run.stderr, /dry run: MAIL FROM:<ann@example\.com> RCPT TO:<dry@example\.org>/);
    assert.ok(
      !server.messages.some((m) => m.envelope.rcptTo.includes('dry@example.org')),
      'nothing was sent',
    );
    const half = await send([
      '--dry-run',
      '--from',
      'a@example.com',
      '--to',
      'b@example.org',
      '--dkim-key',
      key,
    ]);
    assert.equal(half.code, 64);
  });

  test('TLS flags: --pin, --insecure (and what it says), --min-tls, --tls', async () => {
    const pki = await testPki();
    const { spkiSha256 } = await import('../../src/tls/index.js');
    const pin = `sha256/${spkiSha256(pki.serverCert)}`;
    const common = [...auth(), '--from', 'a@example.com', '--json'];
    const pinned = await send([...base, ...common, '--pin', pin, '--to', 'pin@example.org']);
    assert.equal(pinned.code, 0, pinned.stderr);
    const wrongPin = await send([
      ...base,
      ...common,
      '--pin',
      `sha256/${'A'.repeat(43)}=`,
      '--to',
      'x@example.org',
    ]);
    assert.equal(wrongPin.code, 77);
    assert.equal(JSON.parse(wrongPin.stdout).error.code, 'ETLS_PIN_MISMATCH');
    const insecure = await send([
      '--host',
      '127.0.0.1',
      '--port',
      String(server.port),
      '--insecure',
      ...common,
      '--to',
      'insecure@example.org',
    ]);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.match(insecure.stderr, /warning: --insecure: the server's certificate is NOT verified/);
    assert.match(insecure.stderr, /read or change this session, password included/);
    const tls13 = await send([...base, ...common, '--min-tls', '1.3', '--to', 'tls13@example.org']);
    assert.equal(tls13.code, 0, tls13.stderr);
    assert.equal(JSON.parse(tls13.stdout).tls.version, 'TLSv1.3');
    const plaintext = await send([...base, ...common, '--tls', 'none', '--to', 'x@example.org']);
    assert.equal(plaintext.code, 78, 'credentials are never sent without TLS');
    assert.match(plaintext.stderr, /refusing to send credentials/);
    const badMode = await send([...base, '--tls', 'sometimes', '--to', 'x@example.org']);
    assert.equal(badMode.code, 64);
  });

  test('--oauth-token-cmd authenticates with XOAUTH2', async () => {
    const run = await send([
      ...base,
      '--user',
      'alice',
      '--auth',
      'XOAUTH2',
      '--oauth-token-cmd',
      `echo ${TOKEN}`,
      '--from',
      'a@example.com',
      '--to',
      'oauth@example.org',
      '-v',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /AUTH XOAUTH2 \[redacted\]/);
    assert.ok(!run.stderr.includes(TOKEN));
  });

  test('exit codes from real causes: 77, 69, 75, 66, 68, 65, 64', async () => {
    const common = ['--from', 'a@example.com'];
    const cases: [string, string[], number, RegExp][] = [
      [
        'wrong password',
        [...base, '--user', 'alice', '--password-env', 'WRONG_PASS', ...common, '--to', 'x@example.org'],
        77,
        /535/,
      ],
      [
        'untrusted certificate',
        ['--host', '127.0.0.1', '--port', String(server.port), ...common, '--to', 'x@example.org'],
        77,
        /not issued by a trusted CA[\s\S]*--ca FILE/,
      ],
      [
        'refused connection',
        ['--host', '127.0.0.1', '--port', String(await freePort()), ...common, '--to', 'x@example.org'],
        69,
        /nothing is listening/,
      ],
      [
        '451 from the server',
        [...base, ...auth(), ...common, '--to', 'later@example.org'],
        75,
        /451 try again later/,
      ],
      [
        'missing attachment',
        [...base, ...common, '--to', 'x@example.org', '--attach', join(home, 'missing.pdf')],
        66,
        /missing\.pdf does not exist/,
      ],
      [
        'unknown host',
        ['--host', 'mail.postern-test.invalid', ...common, '--to', 'x@example.org'],
        68,
        /not found/,
      ],
      [
        'bad address',
        [...base, '--from', 'not an address', '--to', 'x@example.org'],
        65,
        /not a valid email address/,
      ],
      ['unknown flag', ['--frmo', 'a@example.com'], 64, /unknown option '--frmo'/],
      ['no recipient', [...common], 64, /no recipient/],
    ];
    for (const [why, args, code, message] of cases) {
      const run = await send(args);
      assert.equal(run.code, code, `${why}: ${run.stderr}`);
      assert.match(run.stderr, message, why);
      assert.match(run.stderr, /^error: /m, `${why}: errors start with "error:"`);
      assert.doesNotMatch(run.stderr, /^\s+at /m, `${why}: no stack trace without --debug`);
    }
    const debug = await send([
      '--debug',
      '--host',
      'mail.postern-test.invalid',
      ...common,
      '--to',
      'x@example.org',
    ]);
    assert.match(debug.stderr, /^\s+at /m, '--debug prints the stack');
  });

  test('a server breaking the protocol ends with 76', async () => {
    const scripted = await startScriptedServer(async (conn) => {
      conn.write('220 scripted ESMTP\r\n');
      await conn.readLine();
      conn.write('this is not an SMTP reply\r\n');
      await conn.readLine(2000).catch(() => undefined);
      conn.close();
    });
    try {
      const run = await send([
        '--host',
        '127.0.0.1',
        '--port',
        String(scripted.port),
        '--tls',
        'none',
        '--from',
        'a@example.com',
        '--to',
        'b@example.org',
      ]);
      assert.equal(run.code, 76, run.stderr);
    } finally {
      await scripted.close();
    }
  });

  test('--client-cert and --client-key present a client certificate', async () => {
    const pki = await testPki();
    const client = await createCertificate({
      commonName: 'postern-client',
      issuer: { cert: pki.caCert, key: pki.caKey },
    });
    const certFile = join(home, 'client.pem');
    const keyFile = join(home, 'client.key');
    await writeFile(certFile, client.cert);
    await writeFile(keyFile, client.key, { mode: 0o600 });
    const strict = await startSmtpServer({
      secure: true,
      serverOptions: { requestCert: true, rejectUnauthorized: true, ca: pki.caCert },
    });
    try {
      const common = [
        '--host',
        '127.0.0.1',
        '--port',
        String(strict.port),
        '--tls',
        'implicit',
        '--ca',
        caFile,
      ];
      const ok = await send([
        ...common,
        '--client-cert',
        certFile,
        '--client-key',
        keyFile,
        '--from',
        'a@example.com',
        '--to',
        'mtls@example.org',
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      const without = await send([...common, '--from', 'a@example.com', '--to', 'x@example.org']);
      assert.notEqual(without.code, 0);
      const half = await send([
        ...common,
        '--client-cert',
        certFile,
        '--from',
        'a@example.com',
        '--to',
        'x@example.org',
      ]);
      assert.equal(half.code, 64);
    } finally {
      await strict.stop();
    }
  });

  test('with no server given, the local `postern serve` default is tried and named', async () => {
    const run = await send(['--from', 'a@example.com', '--to', 'b@example.org'], { cwd: home });
    // Nothing listens on 127.0.0.1:2525 in the test environment (or, if something does, it is not trusted).
    assert.ok([69, 77].includes(run.code ?? -1), run.stderr);
    if (run.code === 69) assert.match(run.stderr, /127\.0\.0\.1:2525/);
    assert.match(await readFile(join(ROOT, 'src/cli/defaults.ts'), 'utf8'), /starttlsPort: 2525/);
  });
});
