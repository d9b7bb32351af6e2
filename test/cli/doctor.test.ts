// `postern doctor` as a user runs it: the real process against a private Postfix + Dovecot and a scripted server.
// Each failure class is produced for real — a closed port, a plaintext port with --tls implicit, an implicit-TLS port
// with --tls starttls, the wrong CA, a wrong name, a wrong password, AUTH refusals 534 and 538 — and the success path
// ends in a `postern send` command line that, run through a shell, delivers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createCa } from '../../src/tls/index.js';
import { testPki } from '../helpers/certs.js';
import { startOpensslServer } from '../helpers/openssl-server.js';
import { peerSkip } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { type ScriptedServer, startScriptedServer } from '../helpers/scripted-server.js';
import { tempDir } from '../helpers/tmp.js';
import { baseEnv, CLI_MAIN, runCli, TSX } from './cli.js';

const PASSWORD = 'doctor-Secret-7';
const USER = 'alice@example.test';

interface JsonStep {
  step: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  verdict: string;
  detail?: string;
  fix?: string;
  code?: string;
}

interface JsonReport {
  ok: boolean;
  exitCode: number;
  target: { host: string; port: number | null; tls: string | null };
  steps: JsonStep[];
  command: { line: string; argv: string[]; placeholders: boolean } | null;
}

function stepOf(report: JsonReport, name: string): JsonStep {
  const found = report.steps.find((s) => s.step === name);
  assert.ok(found, `no step ${name}`);
  return found;
}

function parse(run: { code: number | null; stdout: string; stderr: string }): JsonReport {
  try {
    return JSON.parse(run.stdout) as JsonReport;
  } catch {
    assert.fail(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

describe('postern doctor against Postfix + Dovecot', {
  skip: peerSkip('postfix', 'dovecot'),
  concurrency: 4,
}, () => {
  let pf: PostfixInstance;
  let home: string;
  let otherCa: string;
  const env = { SMTP_PASS: PASSWORD, WRONG_PASS: 'not-the-password' };
  const doctor = (args: string[]) => runCli(['doctor', ...args], { home, env });
  const json = async (args: string[]) => {
    const run = await doctor([...args, '--json']);
    const report = parse(run);
    assert.equal(run.code, report.exitCode, 'the exit code is the one in the report');
    return report;
  };

  before(async () => {
    home = await tempDir('cli-doctor');
    pf = await startPostfix({ users: [{ name: USER, password: PASSWORD }] });
    otherCa = join(home, 'other-ca.pem');
    await writeFile(otherCa, (await createCa({ commonName: 'Some Other CA' })).cert);
  });
  after(async () => {
    await pf?.stop();
  });

  test('every step passes, and the printed `postern send` line, run by a shell, delivers', async () => {
    const args = [
      `127.0.0.1:${pf.ports.submission}`,
      '--ca',
      pf.caFile,
      '--user',
      USER,
      '--password-env',
      'SMTP_PASS',
      '--to',
      'bob@example.test',
    ];
    const report = await json(args);
    assert.equal(report.ok, true, JSON.stringify(report.steps, null, 1));
    assert.deepEqual(
      report.steps.map((s) => [s.step, s.status]),
      [
        ['dns', 'ok'],
        ['tcp', 'ok'],
        ['protocol', 'ok'],
        ['ehlo', 'ok'],
        ['starttls', 'ok'],
        ['tls', 'ok'],
        ['auth-mechanisms', 'ok'],
        ['auth', 'ok'],
        ['mail', 'ok'],
      ],
    );
    assert.match(stepOf(report, 'auth').verdict, /authenticated as alice@example\.test with SCRAM-SHA-256/);
    assert.match(
      stepOf(report, 'mail').verdict,
      /RCPT TO <bob@example\.test> accepted \(then RSET: nothing was sent\)/,
    );
    assert.equal(report.command?.placeholders, false);
    // MAIL FROM then RSET: the doctor itself delivered nothing.
    assert.deepEqual(await pf.readMessages('bob'), []);

    const human = await doctor(args);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /✓ TLS handshake\s+TLSv1\.[23], \S+; the certificate verifies/);
    const line = /This command works:\n {2}(postern send .*)\n/.exec(human.stdout)?.[1];
    assert.ok(line, human.stdout);
    assert.equal(line, report.command?.line);
    // The line exactly as printed, with `postern` being this checkout's CLI.
    const shell = `postern() { "$PN_NODE" --import "$PN_TSX" "$PN_MAIN" "$@"; }\n${line}`;
    const sent = await promisify(execFile)('/bin/sh', ['-c', shell], {
      cwd: home,
      env: { ...baseEnv(home), ...env, PN_NODE: process.execPath, PN_TSX: TSX, PN_MAIN: CLI_MAIN },
    });
    assert.match(sent.stdout, /sent to/);
    const [stored] = await pf.waitForMessages('bob', 1);
    assert.ok(stored);
  });

  test('a closed port: refused, "closed", every later step not reached, exit 69', async () => {
    const report = await json([`127.0.0.1:${await freePort()}`]);
    assert.equal(report.exitCode, 69);
    const tcp = stepOf(report, 'tcp');
    assert.equal(tcp.status, 'fail');
    assert.equal(tcp.code, 'ECONNREFUSED');
    assert.match(tcp.verdict, /is closed: the host refused the connection/);
    assert.match(stepOf(report, 'auth').verdict, /not reached: TCP connect failed/);
    assert.equal(report.command, null);
  });

  test('a plaintext port with --tls implicit: "use --tls starttls", and the corrected command', async () => {
    const report = await json([`127.0.0.1:${pf.ports.submission}`, '--tls', 'implicit', '--ca', pf.caFile]);
    assert.equal(report.exitCode, 78);
    const protocol = stepOf(report, 'protocol');
    assert.equal(protocol.status, 'fail');
    assert.equal(protocol.code, 'ETLS_PLAINTEXT_PORT');
    assert.match(protocol.verdict, /speaks plaintext SMTP, not implicit TLS/);
    assert.match(protocol.detail ?? '', /greeting: 220 mail\.example\.test ESMTP Postfix/);
    assert.match(protocol.fix ?? '', /--tls starttls/);
    assert.equal(stepOf(report, 'starttls').status, 'ok');
    assert.equal(stepOf(report, 'tls').status, 'ok');
    assert.equal(report.target.tls, 'starttls');
    assert.ok(report.command?.argv.join(' ').includes('--tls starttls'), report.command?.line);
    assert.equal(report.command?.placeholders, true, 'no --from/--to: the addresses are examples');
  });

  test('an implicit-TLS port with --tls starttls: "use --tls implicit"', async () => {
    const report = await json([
      `127.0.0.1:${pf.ports.smtps}`,
      '--tls',
      'starttls',
      '--ca',
      pf.caFile,
      '--user',
      USER,
      '--password-env',
      'SMTP_PASS',
      '--timeout',
      '2',
    ]);
    assert.equal(report.exitCode, 78);
    const protocol = stepOf(report, 'protocol');
    assert.equal(protocol.status, 'fail');
    assert.match(
      protocol.verdict,
      /speaks TLS from the first byte \(TLSv1\.[23]\): it never greets in plaintext/,
    );
    assert.match(protocol.fix ?? '', /--tls implicit/);
    assert.equal(stepOf(report, 'auth').status, 'ok');
    assert.ok(report.command?.argv.join(' ').includes('--tls implicit'), report.command?.line);
  });

  test('the wrong CA: untrusted, the issuer named, the fix is --ca; no password is sent', async () => {
    const report = await json([
      `localhost:${pf.ports.smtps}`,
      '--tls',
      'implicit',
      '--ca',
      otherCa,
      '--user',
      USER,
      '--password-env',
      'SMTP_PASS',
    ]);
    assert.equal(report.exitCode, 77);
    const tls = stepOf(report, 'tls');
    assert.equal(tls.status, 'fail');
    assert.equal(tls.code, 'ETLS_CERT_UNTRUSTED');
    assert.match(
      tls.verdict,
      new RegExp(`not issued by a CA in ${otherCa.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
    assert.match(tls.fix ?? '', /CN=Postern Test CA\): pass that CA's certificate with --ca FILE/);
    assert.match(tls.detail ?? '', /certificate CN=localhost for DNS:localhost/);
    // The later steps are still reported, from a look that verified nothing and sent no password.
    assert.equal(stepOf(report, 'ehlo').status, 'ok');
    assert.match(stepOf(report, 'auth-mechanisms').detail ?? '', /without verifying the certificate/);
    assert.equal(stepOf(report, 'auth').status, 'skip');
    assert.match(stepOf(report, 'auth').verdict, /no password goes to an unverified server/);
    assert.equal(report.command, null);
  });

  test('a name the certificate does not hold: the fix names one, and the command uses it', async () => {
    const report = await json([
      `127.0.0.1:${pf.ports.smtps}`,
      '--tls',
      'implicit',
      '--ca',
      pf.caFile,
      '--servername',
      'mail.other.test',
      '--from',
      USER,
      '--to',
      'carol@example.test',
      '--user',
      USER,
      '--password-env',
      'SMTP_PASS',
    ]);
    const tls = stepOf(report, 'tls');
    assert.equal(tls.code, 'ETLS_CERT_NAME_MISMATCH');
    assert.match(tls.verdict, /not valid for "mail\.other\.test"/);
    assert.match(tls.fix ?? '', /--servername localhost/);
    assert.equal(stepOf(report, 'auth').status, 'ok');
    assert.ok(report.command?.argv.join(' ').includes('--servername localhost'), report.command?.line);
  });

  test('a wrong password: 535 explained as wrong credentials, exit 77', async () => {
    const report = await json([
      `127.0.0.1:${pf.ports.submission}`,
      '--ca',
      pf.caFile,
      '--user',
      USER,
      '--password-env',
      'WRONG_PASS',
    ]);
    assert.equal(report.exitCode, 77);
    const auth = stepOf(report, 'auth');
    assert.equal(auth.status, 'fail');
    assert.equal(auth.code, 'EAUTH_FAILED');
    assert.match(auth.verdict, /^wrong user name or password \(535 5\.7\.8\)$/);
    assert.match(auth.fix ?? '', /check the user name/);
    assert.match(stepOf(report, 'mail').verdict, /not tried: authentication failed/);
    assert.equal(report.command, null);
  });

  test('no TLS (--tls none) with a password: refused before anything is sent', async () => {
    const report = await json([
      `127.0.0.1:${pf.ports.submission}`,
      '--tls',
      'none',
      '--user',
      USER,
      '--password-env',
      'SMTP_PASS',
    ]);
    assert.equal(stepOf(report, 'starttls').status, 'warn');
    assert.match(stepOf(report, 'auth-mechanisms').fix ?? '', /AUTH only after STARTTLS/);
    const auth = stepOf(report, 'auth');
    assert.equal(auth.code, 'EAUTH_PLAINTEXT');
    assert.equal(report.exitCode, 78);
  });
});

describe('postern doctor: DNS, and AUTH refusals from a scripted server', { concurrency: 2 }, () => {
  let home: string;
  const servers: ScriptedServer[] = [];
  before(async () => {
    home = await tempDir('cli-doctor-scripted');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** An implicit-TLS server that offers AUTH PLAIN and answers every AUTH with `refusal`. */
  async function refusing(refusal: string): Promise<number> {
    const pki = await testPki();
    const server = await startScriptedServer(
      async (conn) => {
        conn.reply(220, 'scripted.test ESMTP');
        for (;;) {
          const verb = (await conn.readLine()).split(' ')[0]!.toUpperCase();
          if (verb === 'EHLO') conn.reply(250, ['scripted.test', 'AUTH PLAIN', 'ENHANCEDSTATUSCODES']);
          else if (verb === 'AUTH') conn.write(`${refusal}\r\n`);
          else if (verb === 'QUIT') {
            conn.reply(221, '2.0.0 bye');
            conn.close();
            return;
          } else conn.reply(250, '2.0.0 ok');
        }
      },
      { tls: { cert: pki.serverCert, key: pki.serverKey } },
    );
    servers.push(server);
    return server.port;
  }

  const doctorJson = async (args: string[]) => {
    const pki = await testPki();
    const run = await runCli(
      [
        'doctor',
        ...args,
        '--tls',
        'implicit',
        '--ca',
        pki.caFile,
        '--user',
        'me',
        '--password-env',
        'SMTP_PASS',
        '--json',
      ],
      { home, env: { SMTP_PASS: PASSWORD } },
    );
    return { run, report: parse(run) };
  };

  test('534 5.7.9: an application password is needed', async () => {
    const port = await refusing('534 5.7.9 Application-specific password required');
    const { run, report } = await doctorJson([`localhost:${port}`]);
    assert.equal(run.code, 77);
    const auth = stepOf(report, 'auth');
    assert.equal(auth.code, 'EAUTH_APP_PASSWORD');
    assert.match(auth.verdict, /^the account needs an application password \(534 5\.7\.9\)$/);
    assert.match(auth.fix ?? '', /application password|2-step/);
  });

  test('538 5.7.11: encryption required for the mechanism', async () => {
    const port = await refusing('538 5.7.11 Encryption required for requested authentication mechanism');
    const { report } = await doctorJson([`localhost:${port}`]);
    const auth = stepOf(report, 'auth');
    assert.equal(auth.code, 'EAUTH_ENCRYPTION_REQUIRED');
    assert.match(auth.verdict, /requires encryption for this mechanism \(538 5\.7\.11\)/);
  });

  test('a host that does not resolve: DNS fails, exit 68', async () => {
    const run = await runCli(['doctor', 'mail.postern-doctor.invalid', '--json'], { home });
    const report = parse(run);
    assert.equal(run.code, 68);
    assert.equal(stepOf(report, 'dns').status, 'fail');
    assert.equal(stepOf(report, 'dns').code, 'EDNS');
    assert.match(stepOf(report, 'tcp').verdict, /not reached: DNS failed/);
  });

  test('usage: a password flag without --user, and a plain --password, are refused', async () => {
    const noUser = await runCli(['doctor', 'localhost:25', '--password-env', 'X'], { home });
    assert.equal(noUser.code, 64);
    assert.match(noUser.stderr, /add --user/);
    const plain = await runCli(['doctor', 'localhost:25', '--user', 'me', '--password', 'hunter2'], { home });
    assert.equal(plain.code, 64);
    assert.ok(!plain.stderr.includes('hunter2'));
  });
});

describe('postern doctor against openssl s_server', { skip: peerSkip('openssl') }, () => {
  test('a server of TLS 1.1 only: the version it offers is named, with the fix for its operator', async () => {
    const pki = await testPki();
    const home = await tempDir('cli-doctor-openssl');
    const old = await startOpensslServer(pki, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    try {
      const run = await runCli(
        ['doctor', `localhost:${old.port}`, '--tls', 'implicit', '--ca', pki.caFile, '--json'],
        {
          home,
        },
      );
      const report = parse(run);
      assert.equal(run.code, 76);
      assert.equal(stepOf(report, 'protocol').verdict, 'implicit TLS: TLS from the first byte (TLSv1.1)');
      const tls = stepOf(report, 'tls');
      assert.equal(tls.code, 'ETLS_VERSION');
      assert.match(tls.verdict, /offers only TLSv1\.1, which postern refuses/);
      assert.match(tls.fix ?? '', /smtpd_tls_protocols = >=TLSv1\.2/);
    } finally {
      await old.stop();
    }
  });
});

describe('postern doctor: hostile and odd servers', { concurrency: 3 }, () => {
  let home: string;
  const servers: ScriptedServer[] = [];
  before(async () => {
    home = await tempDir('cli-doctor-hostile');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  async function serve(script: Parameters<typeof startScriptedServer>[0]): Promise<number> {
    const server = await startScriptedServer(script);
    servers.push(server);
    return server.port;
  }

  /** Answers EHLO with `ehlo`, MAIL with `mail`, QUIT with 221; anything else 250. */
  async function dialogue(
    conn: Parameters<Parameters<typeof startScriptedServer>[0]>[0],
    ehlo: string[],
    mail = '250 2.1.0 ok',
  ): Promise<void> {
    for (;;) {
      const verb = (await conn.readLine()).split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') conn.reply(250, ehlo);
      else if (verb === 'MAIL') conn.write(`${mail}\r\n`);
      else if (verb === 'QUIT') {
        conn.reply(221, 'bye');
        conn.close();
        return;
      } else conn.reply(250, 'ok');
    }
  }

  // C0 controls other than the line break, DEL, and C1 controls (U+009B is a one-character CSI).
  const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  const ESC = '\x1b';

  test('escape sequences in the greeting, the EHLO name and a reply never reach the terminal (text and --json)', async () => {
    const port = await serve(async (conn) => {
      conn.write(`220 evil${ESC}]0;PWNED\x07${ESC}[31m\u009b2J ESMTP\r\n`);
      await dialogue(
        conn,
        [`evil${ESC}]0;TITLE\x07${ESC}[41m.test`, 'AUTH PLAIN', 'SIZE 1000'],
        `550 5.7.1 no ${ESC}[5mblink\u009b31m`,
      );
    });
    const args = ['doctor', `127.0.0.1:${port}`, '--tls', 'none', '--from', 'me@example.test'];
    const text = await runCli(args, { home });
    assert.doesNotMatch(text.stdout, RAW_CONTROL, JSON.stringify(text.stdout));
    assert.match(text.stdout, /plaintext SMTP: 220 evil\\x1b\]0;PWNED\\x07\\x1b\[31m\\x9b2J ESMTP/);
    assert.match(text.stdout, /evil\\x1b\]0;TITLE\\x07\\x1b\[41m\.test offers AUTH/);
    assert.match(text.stdout, /550 5\.7\.1 no \\x1b\[5mblink\\x9b31m/);
    const run = await runCli([...args, '--json'], { home });
    // JSON.stringify escapes C0 itself, but leaves DEL and C1 raw: the report must not carry them at all.
    assert.doesNotMatch(run.stdout, RAW_CONTROL);
    const report = parse(run);
    for (const s of report.steps) {
      for (const text of [s.verdict, s.detail ?? '', s.fix ?? ''])
        assert.doesNotMatch(text, RAW_CONTROL, text);
    }
    assert.match(stepOf(report, 'protocol').verdict, /\\x1b\]0;PWNED\\x07/);
    assert.match(stepOf(report, 'ehlo').verdict, /\\x1b\]0;TITLE\\x07/);
    assert.equal(stepOf(report, 'mail').status, 'fail');
  });

  test('a greeting split across TCP segments ("2", a pause, the rest) is SMTP', async () => {
    const port = await serve(async (conn) => {
      conn.write('2');
      // The pause is the behaviour under test: the first segment alone is not the greeting.
      await delay(300);
      conn.write('20 mx.test ESMTP\r\n');
      await dialogue(conn, ['mx.test', 'SIZE 1000']);
    });
    const report = parse(await runCli(['doctor', `127.0.0.1:${port}`, '--tls', 'none', '--json'], { home }));
    const protocol = stepOf(report, 'protocol');
    assert.equal(protocol.status, 'ok', protocol.verdict);
    assert.equal(protocol.verdict, 'plaintext SMTP: 220 mx.test ESMTP');
    assert.equal(stepOf(report, 'ehlo').status, 'ok');
  });

  test('an over-long greeting is the greeting step’s failure, shown cut short; EHLO is not blamed', async () => {
    const port = await serve(async (conn) => {
      conn.write(`220 ${'A'.repeat(100_000)}\r\n`);
      await conn.readLine().catch(() => undefined);
    });
    const run = await runCli(['doctor', `127.0.0.1:${port}`, '--json'], { home });
    assert.ok(run.stdout.length < 20_000, `${run.stdout.length} characters of output`);
    const report = parse(run);
    const protocol = stepOf(report, 'protocol');
    assert.equal(protocol.status, 'fail');
    assert.equal(protocol.code, 'EREPLY_TOO_LONG');
    assert.match(protocol.verdict, /^the greeting: the peer sent a line of \d+\+ octets/);
    const ehlo = stepOf(report, 'ehlo');
    assert.equal(ehlo.status, 'skip');
    assert.match(ehlo.verdict, /not reached: What the port speaks failed/);
  });

  test('STARTTLS with an untrusted certificate: the plaintext EHLO is not called "seen over TLS"', async () => {
    const pki = await testPki();
    const port = await serve(async (conn) => {
      conn.reply(220, 'starttls.test ESMTP');
      let secure = false;
      for (;;) {
        const verb = (await conn.readLine()).split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') conn.reply(250, ['starttls.test', secure ? 'AUTH PLAIN' : 'STARTTLS']);
        else if (verb === 'STARTTLS') {
          conn.reply(220, '2.0.0 go ahead');
          await conn.startTls(pki.serverCert, pki.serverKey);
          secure = true;
        } else if (verb === 'QUIT') {
          conn.reply(221, 'bye');
          conn.close();
          return;
        } else conn.reply(250, 'ok');
      }
    });
    // No --ca: the test CA is not trusted, so the doctor looks again without verifying.
    const report = parse(
      await runCli(['doctor', `localhost:${port}`, '--tls', 'starttls', '--json'], { home }),
    );
    assert.equal(stepOf(report, 'tls').status, 'fail');
    const ehlo = stepOf(report, 'ehlo');
    assert.equal(ehlo.status, 'ok');
    assert.equal(ehlo.detail, undefined, 'the plaintext EHLO involved no certificate');
    assert.match(
      stepOf(report, 'auth-mechanisms').detail ?? '',
      /seen over TLS without verifying the certificate/,
    );
  });
});
