// `postern audit` beside testssl.sh (Debian's 3.0.8) on real Postfix configurations (test/helpers/
// postfix-variants.ts): both must find the same protocols, the same cipher suites per protocol and the same
// certificate verdicts; every disagreement is printed. testssl's own findings are first checked against what
// each variant is known to offer, so a disagreement points at the audit, not at the reference.
//
// testssl is slow (about 5–20 s per port, CPU-bound bash), so the variants run two at a time, each: start
// Postfix, run testssl once (-p -E -S; -p -S for a variant with the TLS settings of another, whose suites
// are then compared there), run `postern audit HOST:PORT --starttls --json --ca FILE`, stop.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditReport } from '../../src/audit/report.js';
import { PROTOCOLS } from '../../src/audit/types.js';
import { runCli } from '../cli/cli.js';
import { peerSkip } from '../helpers/peers.js';
import {
  POSTFIX_VARIANTS,
  type PostfixVariant,
  startVariant,
  type VariantName,
} from '../helpers/postfix-variants.js';
import {
  compareWithTestssl,
  runTestssl,
  TESTSSL_COMPARE_CHECKS,
  type TestsslResult,
} from '../helpers/testssl.js';
import { removeTempDir, tempDir } from '../helpers/tmp.js';

const skip = peerSkip('postfix', 'dovecot', 'testssl');

/** Variants run at once (2 cores: testssl keeps one busy). */
const PARALLEL = 2;

interface Ours {
  readonly report?: AuditReport;
  /** Why there is no report: the command failed or printed no JSON report. */
  readonly failure?: string;
  readonly seconds: number;
}

interface VariantRun {
  readonly testssl: TestsslResult;
  readonly ours: Ours;
}

async function auditWithCli(host: string, port: number, caFile: string, home: string): Promise<Ours> {
  const started = performance.now();
  const args = ['audit', `${host}:${port}`, '--starttls', '--json', '--ca', caFile];
  const run = await runCli(args, { home, timeoutMs: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    return {
      seconds,
      failure: `postern ${args.join(' ')} printed no JSON (exit ${run.code})\n${run.stderr || run.stdout}`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || !('protocols' in parsed)) {
    return { seconds, failure: `postern ${args.join(' ')}: JSON without "protocols"\n${run.stdout}` };
  }
  return { seconds, report: parsed as AuditReport };
}

async function runVariant(variant: PostfixVariant, home: string): Promise<VariantRun> {
  const running = await startVariant(variant.name);
  try {
    // A variant with another's TLS settings skips testssl's slow per-protocol cipher scan (-E, ~15 s).
    const checks = variant.sameTlsAs ? ['-p', '-S'] : TESTSSL_COMPARE_CHECKS;
    const testssl = await runTestssl({
      host: running.host,
      port: running.port,
      caFile: running.caFile,
      checks,
    });
    const ours = await auditWithCli(running.host, running.port, running.caFile, home);
    process.stdout.write(
      `# ${variant.name}: testssl ${testssl.seconds.toFixed(1)} s, postern audit ${ours.seconds.toFixed(1)} s\n`,
    );
    return { testssl, ours };
  } finally {
    await running.stop();
  }
}

/** Runs `jobs` with at most `limit` at a time; each promise settles with its job. */
function limited<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T>[] {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    active--;
    queue.shift()?.();
  };
  return jobs.map(
    (job) =>
      new Promise<T>((resolve, reject) => {
        const start = () => {
          active++;
          job().then(resolve, reject).finally(next);
        };
        if (active < limit) start();
        else queue.push(start);
      }),
  );
}

describe('postern audit agrees with testssl.sh on Postfix configurations', { skip }, () => {
  const runs = new Map<VariantName, Promise<VariantRun>>();
  let home: string;
  const started = performance.now();

  before(async () => {
    home = await tempDir('audit-testssl-home');
    const promises = limited(
      POSTFIX_VARIANTS.map((v) => () => runVariant(v, home)),
      PARALLEL,
    );
    POSTFIX_VARIANTS.forEach((v, i) => {
      const p = promises[i]!;
      p.catch(() => {}); // reported by the variant's tests
      runs.set(v.name, p);
    });
  });

  after(async () => {
    await Promise.allSettled(runs.values());
    process.stdout.write(`# all variants: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    if (home) await removeTempDir(home);
  });

  for (const variant of POSTFIX_VARIANTS) {
    const { facts } = variant;
    describe(`${variant.name} (${variant.summary}; ${variant.port} port)`, () => {
      test('testssl finds what the configuration offers', { timeout: 300_000 }, async () => {
        const { testssl: t } = await runs.get(variant.name)!;
        assert.equal(
          t.tls,
          facts.starttls,
          `testssl found TLS: ${t.tls}; problems: ${t.problems.join('; ')}`,
        );
        if (!facts.starttls) {
          assert.equal(t.certificate, null);
          return;
        }
        assert.deepEqual(t.protocols, facts.protocols, 'protocols per testssl');
        const ciphers = t.ciphers;
        assert.equal(
          ciphers === undefined,
          variant.sameTlsAs !== undefined,
          'suites scanned (-E) unless shared',
        );
        if (ciphers) {
          const anon = t.allCiphers.filter((c) => /_anon_/.test(c));
          assert.equal(
            anon.length > 0,
            facts.anonymousSuites,
            `anonymous suites per testssl: ${anon.join(', ')}`,
          );
          for (const p of PROTOCOLS) {
            if (!facts.protocols[p]) assert.deepEqual(ciphers[p], [], `${p} offers no suites`);
            else assert.ok(ciphers[p].length > 0, `${p} offers suites`);
            const exact = facts.ciphers?.[p];
            if (exact) assert.deepEqual([...ciphers[p]].sort(), [...exact].sort(), `${p} suites`);
          }
        }
        const cert = facts.certificate!;
        const theirs = t.certificate;
        assert.ok(theirs, 'testssl reports the certificate');
        assert.deepEqual(
          {
            trusted: theirs.trusted,
            expired: theirs.expired,
            selfSigned: theirs.selfSigned,
            nameMatches: theirs.nameMatches,
            keyType: theirs.keyType?.toLowerCase(),
            keyBits: theirs.keyBits,
          },
          {
            trusted: cert.trusted,
            expired: cert.expired,
            selfSigned: cert.selfSigned,
            nameMatches: cert.nameMatches,
            keyType: cert.keyType,
            keyBits: cert.keyBits,
          },
          `certificate per testssl (chain of trust: "${theirs.chainOfTrust}")`,
        );
      });

      test('postern audit agrees with testssl', { timeout: 300_000 }, async () => {
        const { testssl, ours } = await runs.get(variant.name)!;
        assert.ok(ours.report, ours.failure);
        const disagreements = compareWithTestssl(ours.report, testssl);
        for (const line of disagreements) process.stdout.write(`# ${variant.name}: ${line}\n`);
        assert.deepEqual(disagreements, [], `${disagreements.length} disagreement(s) with testssl`);
        assert.equal(ours.report.smtp?.starttlsOffered ?? false, facts.starttls, 'STARTTLS offered');
        const authBefore = (ours.report.smtp?.authBeforeTls.offered.length ?? 0) > 0;
        assert.equal(authBefore, facts.authBeforeTls, 'AUTH offered before TLS');
      });
    });
  }

  // The comparison itself, on real testssl output: a report made of testssl's own findings agrees, and each
  // kind of change to it is reported (so a green comparison above is not a comparison that sees nothing).
  test('compareWithTestssl reports each kind of disagreement', { timeout: 300_000 }, async () => {
    const { testssl } = await runs.get('defaults')!;
    const cert = testssl.certificate!;
    const mirror = () => ({
      protocols: { ...testssl.protocols },
      ciphers: Object.fromEntries(PROTOCOLS.map((p) => [p, [...(testssl.ciphers?.[p] ?? [])]])),
      certificate: {
        trusted: cert.trusted,
        nameMatches: cert.nameMatches,
        chain: [
          {
            daysLeft: cert.expired ? -1 : 100,
            selfSigned: cert.selfSigned,
            keyType: 'ec',
            keyBits: cert.keyBits,
            signatureAlgorithm: 'ecdsa-with-SHA256',
            validTo: cert.notAfter?.toISOString(),
          },
        ],
      },
    });
    assert.deepEqual(compareWithTestssl(mirror(), testssl), []);
    const changed = mirror();
    const [dropped] = changed.ciphers['TLSv1.2']!.splice(0, 1);
    changed.protocols['TLSv1.0'] = false;
    changed.ciphers['TLSv1.3']!.push('TLS_AES_128_CCM_SHA256');
    changed.certificate.trusted = !cert.trusted;
    changed.certificate.chain[0]!.keyBits = 384;
    changed.certificate.chain[0]!.signatureAlgorithm = 'sha256WithRSAEncryption';
    const lines = compareWithTestssl(changed, testssl);
    const expected = [
      /^TLSv1\.0: testssl offered, postern not offered$/,
      new RegExp(`^TLSv1\\.2 ciphers: testssl accepted, postern did not: ${dropped}$`),
      /^TLSv1\.3 ciphers: postern accepted, testssl did not: TLS_AES_128_CCM_SHA256$/,
      /^certificate trusted: /,
      /^certificate key size: testssl 256, postern 384$/,
      /^certificate signature algorithm: /,
    ];
    assert.equal(lines.length, expected.length, lines.join('\n'));
    for (const [i, re] of expected.entries()) assert.match(lines[i]!, re);
  });
});
