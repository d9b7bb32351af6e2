// `postern audit` beside testssl.sh on two more servers nobody running the audit configured by hand: Postern's own
// SmtpServer (STARTTLS and implicit TLS, its default "intermediate" profile) and smtp-server (npm, Node's TLS
// defaults). Same comparison as audit-testssl.test.ts: protocols, suites per protocol, certificate verdicts.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditReport } from '../../src/audit/report.js';
import { runCli } from '../cli/cli.js';
import { peerSkip } from '../helpers/peers.js';
import { type SmtpServerInstance, startSmtpServer } from '../helpers/smtp-server.js';
import { compareWithTestssl, runTestssl, type TestsslResult } from '../helpers/testssl.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';
import { startServer, type TestServer } from '../integration/server/harness.js';

const skip = peerSkip('testssl');

interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly implicit: boolean;
  readonly caFile: string;
}

async function compare(t: Target, home: string): Promise<{ testssl: TestsslResult; report: AuditReport }> {
  const testssl = await runTestssl({
    host: t.host,
    port: t.port,
    caFile: t.caFile,
    starttls: t.implicit ? null : 'smtp',
  });
  const run = await runCli(
    ['audit', `${t.host}:${t.port}`, t.implicit ? '--tls' : '--starttls', '--json', '--ca', t.caFile],
    { home, timeoutMs: 60_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  return { testssl, report: JSON.parse(run.stdout) as AuditReport };
}

describe('postern audit agrees with testssl.sh on Postern and smtp-server', { skip }, () => {
  let home: string;
  let postern: TestServer;
  let smtpServer: SmtpServerInstance;
  const targets: Target[] = [];
  const results = new Map<string, Promise<{ testssl: TestsslResult; report: AuditReport }>>();

  before(async () => {
    home = await tempDir('audit-testssl-servers');
    postern = await startServer({
      endpoints: [
        { port: 0, tls: 'starttls' },
        { port: 0, tls: 'implicit' },
      ],
    });
    const posternCa = join(home, 'postern-ca.pem');
    await writeFile(posternCa, postern.ca);
    smtpServer = await startSmtpServer();
    targets.push(
      {
        name: 'Postern STARTTLS',
        host: '127.0.0.1',
        port: postern.port(0),
        implicit: false,
        caFile: posternCa,
      },
      {
        name: 'Postern implicit TLS',
        host: '127.0.0.1',
        port: postern.port(1),
        implicit: true,
        caFile: posternCa,
      },
      {
        name: 'smtp-server STARTTLS',
        host: '127.0.0.1',
        port: smtpServer.port,
        implicit: false,
        caFile: smtpServer.caFile,
      },
    );
    // Two at a time: testssl keeps a core busy.
    const first = targets.slice(0, 2).map((t) => [t.name, compare(t, home)] as const);
    for (const [name, p] of first) results.set(name, p);
    const rest = Promise.allSettled(first.map(([, p]) => p)).then(() => compare(targets[2]!, home));
    results.set(targets[2]!.name, rest);
    for (const p of results.values()) p.catch(() => {});
  });

  after(async () => {
    await Promise.allSettled(results.values());
    await postern?.close();
    await smtpServer?.stop();
    if (home) await removeTempDir(home);
  });

  for (const name of ['Postern STARTTLS', 'Postern implicit TLS', 'smtp-server STARTTLS']) {
    test(`${name}: no disagreement with testssl`, { timeout: 300_000 }, async () => {
      const { testssl, report } = await results.get(name)!;
      assert.equal(testssl.tls, true, testssl.problems.join('; '));
      assert.ok(testssl.ciphers, 'testssl scanned the suites per protocol');
      const disagreements = compareWithTestssl(report, testssl);
      for (const line of disagreements) process.stdout.write(`# ${name}: ${line}\n`);
      assert.deepEqual(disagreements, [], `${disagreements.length} disagreement(s) with testssl`);
      // Both found something to agree on: TLS 1.2 with suites, and a trusted certificate.
      assert.equal(report.protocols['TLSv1.2'], true);
      assert.ok((report.ciphers['TLSv1.2']?.length ?? 0) > 0);
      assert.equal(report.certificate?.trusted, true);
    });
  }
});
