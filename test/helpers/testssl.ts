/**
 * testssl.sh (Debian's `testssl`, 3.0.8) as a reference auditor: runs it against a loopback port, parses
 * its flat JSON (--jsonfile) and compares it with what `postern audit --json` found.
 *
 * Which checks, and how fast (a local Postfix with Debian's defaults, STARTTLS on loopback, 2 cores):
 *   default run (everything but -E and -g)      ~46 s   protocols, each cipher (-e: no protocol), certificate, …
 *   -p -E -S  (protocols, ciphers per protocol, server defaults incl. certificate)    ~22 s
 *   -p -E -S with USLEEP_SND/USLEEP_REC=0.02    ~17 s   (same findings; see below)
 *   -p 5.4 s, -E 17.6 s (it also detects the protocols, so -p adds nothing), -S 7.3 s, -e 11.8 s
 *   --ssl-native (OpenSSL instead of sockets) is 4× faster but misses whatever the local OpenSSL 3 cannot
 *   offer (SSLv2/SSLv3, legacy versions below @SECLEVEL=0, many suites), so it is not used.
 * testssl sleeps USLEEP_SND (0.1 s) after every ClientHello so that one read gets the whole reply (a read
 * that finds nothing yet costs a full second in its wait_kill loop); on loopback 0.02 s is plenty.
 *
 * Flags: --quiet (no banner), --warnings off (never ask), --color 0, --mapping iana (IANA names first),
 * --openssl /usr/bin/openssl (Debian's, not a bundled one), --ip one and --nodns min (no DNS lookups beyond
 * the minimum: the target is an IP literal), --add-ca FILE (trust the test CA in addition to testssl's own
 * bundles, so its "chain of trust" verdict can agree with `postern audit --ca FILE`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROTOCOLS, type ProtocolName } from '../../src/audit/types.js';
import { onExit, signalPid } from './cleanup.js';
import { removeTempDir, tempDir } from './tmp.js';

export const TESTSSL_BIN = 'testssl';

/** The checks for comparing with `postern audit`: protocols, ciphers per protocol, certificate. */
export const TESTSSL_COMPARE_CHECKS: readonly string[] = ['-p', '-E', '-S'];

export interface TestsslOptions {
  readonly host: string;
  readonly port: number;
  /** STARTTLS protocol; default 'smtp'. null: implicit TLS. */
  readonly starttls?: 'smtp' | null;
  /** CA file testssl trusts besides its own bundles (--add-ca). */
  readonly caFile?: string;
  /** Check flags; default TESTSSL_COMPARE_CHECKS. [] is testssl's default run (what a user gets). */
  readonly checks?: readonly string[];
  /** Shorter socket sleeps (USLEEP_SND/USLEEP_REC 0.02 s instead of 0.1/0.2); default true. */
  readonly fastSockets?: boolean;
  /** Kills testssl after this long; default 240000 ms. */
  readonly timeoutMs?: number;
}

/** One entry of testssl's flat JSON. */
export interface TestsslFinding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
  readonly ip?: string;
  readonly port?: string;
  readonly cve?: string;
  readonly cwe?: string;
}

export interface TestsslCertificate {
  /** "Chain of trust" passed (against testssl's bundles plus --add-ca). */
  readonly trusted: boolean;
  readonly expired: boolean;
  /** testssl's chain verdict says "self signed". */
  readonly selfSigned: boolean;
  /** "Trust (hostname)": the leaf covers the target name ("Ok via SAN/CN"). */
  readonly nameMatches: boolean;
  /** "RSA", "EC", … as testssl spells it. */
  readonly keyType?: string | undefined;
  readonly keyBits?: number | undefined;
  /** e.g. "ECDSA with SHA256", "SHA256 with RSA". */
  readonly signatureAlgorithm?: string | undefined;
  /** notAfter, UTC, to the minute. */
  readonly notAfter?: Date | undefined;
  /** testssl's texts, for messages. */
  readonly chainOfTrust: string;
  readonly expirationStatus: string;
}

export interface TestsslResult {
  /** false when testssl found no TLS on the port at all (no STARTTLS, or no handshake completed). */
  readonly tls: boolean;
  /** Protocol → offered; null where testssl could not tell ("couldn't be tested", not run). */
  readonly protocols: Readonly<Record<ProtocolName, boolean | null>>;
  /** Accepted suites per protocol (IANA names), from -E; undefined when -E did not run. */
  readonly ciphers: Readonly<Record<ProtocolName, readonly string[]>> | undefined;
  /** Every accepted suite (IANA names), from -E or from -e / the default run (which has no protocol). */
  readonly allCiphers: readonly string[];
  /** From -S or the default run; null when no certificate was retrieved; undefined when not checked. */
  readonly certificate: TestsslCertificate | null | undefined;
  /** WARN and FATAL findings: what testssl could not do. */
  readonly problems: readonly string[];
  readonly findings: readonly TestsslFinding[];
  /** Wall time of the testssl process. */
  readonly seconds: number;
  readonly exitCode: number | null;
  readonly args: readonly string[];
}

/**
 * Runs testssl against host:port and parses its JSON. Throws when testssl wrote no JSON (with its output).
 *
 * @example const t = await runTestssl({ host: '127.0.0.1', port: pf.ports.submission, caFile: pf.caFile });
 */
export async function runTestssl(o: TestsslOptions): Promise<TestsslResult> {
  const dir = await tempDir('testssl');
  const jsonFile = join(dir, 'result.json');
  const checks = o.checks ?? TESTSSL_COMPARE_CHECKS;
  const starttls = o.starttls === undefined ? 'smtp' : o.starttls;
  const args = [
    '--quiet',
    '--warnings',
    'off',
    '--color',
    '0',
    '--mapping',
    'iana',
    '--openssl',
    '/usr/bin/openssl',
    '--ip',
    'one',
    '--nodns',
    'min',
    ...(starttls ? ['--starttls', starttls] : []),
    ...(o.caFile ? ['--add-ca', o.caFile] : []),
    '--jsonfile',
    jsonFile,
    ...checks,
    `${o.host}:${o.port}`,
  ];
  // testssl reads DEBUG as its own debug level (a DEBUG=* meant for Node's debug module would break it).
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'dumb', COLUMNS: '160', DEBUG: '0' };
  if (o.fastSockets !== false) Object.assign(env, { USLEEP_SND: '0.02', USLEEP_REC: '0.02' });
  try {
    const started = performance.now();
    const run = await spawnTestssl(args, env, dir, o.timeoutMs ?? 240_000);
    const seconds = (performance.now() - started) / 1000;
    let text: string;
    try {
      text = await readFile(jsonFile, 'utf8');
    } catch {
      throw new Error(
        `testssl wrote no JSON (exit ${run.code})\n$ ${TESTSSL_BIN} ${args.join(' ')}\n${tail(run.output)}`,
      );
    }
    const findings = parseTestsslJson(text);
    return { ...interpretFindings(findings, checks), seconds, exitCode: run.code, args };
  } finally {
    await removeTempDir(dir);
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** testssl in its own process group (it starts openssl, dd, sleep, …), killed as a whole on timeout. */
function spawnTestssl(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  const child: ChildProcess = spawn(TESTSSL_BIN, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = () => {
    if (child.pid) signalPid(-child.pid, 'SIGKILL');
  };
  const unregister = onExit(killGroup);
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`testssl did not finish in ${timeoutMs} ms\n${tail(output)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      unregister();
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      unregister();
      resolve({ code, output });
    });
  });
}

/** Parses testssl's flat JSON (an array of findings; --jsonfile). */
export function parseTestsslJson(text: string): TestsslFinding[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error('testssl JSON: expected an array of findings');
  return data.map((entry, i) => {
    const e = entry as Record<string, unknown>;
    if (typeof e['id'] !== 'string' || typeof e['finding'] !== 'string') {
      throw new Error(`testssl JSON: finding ${i} has no id/finding`);
    }
    return {
      id: e['id'],
      severity: typeof e['severity'] === 'string' ? e['severity'] : '',
      finding: e['finding'],
      ...(typeof e['ip'] === 'string' ? { ip: e['ip'] } : {}),
      ...(typeof e['port'] === 'string' ? { port: e['port'] } : {}),
      ...(typeof e['cve'] === 'string' && e['cve'] ? { cve: e['cve'] } : {}),
      ...(typeof e['cwe'] === 'string' && e['cwe'] ? { cwe: e['cwe'] } : {}),
    };
  });
}

/** testssl's ids: protocol findings (-p) and the protocol part of -E's "cipher-tls1_2_xc02c". */
const PROTOCOL_IDS: Readonly<Record<ProtocolName, { finding: string; cipher: string }>> = {
  SSLv2: { finding: 'SSLv2', cipher: 'ssl2' },
  SSLv3: { finding: 'SSLv3', cipher: 'ssl3' },
  'TLSv1.0': { finding: 'TLS1', cipher: 'tls1' },
  'TLSv1.1': { finding: 'TLS1_1', cipher: 'tls1_1' },
  'TLSv1.2': { finding: 'TLS1_2', cipher: 'tls1_2' },
  'TLSv1.3': { finding: 'TLS1_3', cipher: 'tls1_3' },
};

/** "offered (deprecated)", "not offered + downgraded …", "couldn't be tested, socket problem", … */
function protocolVerdict(finding: string): boolean | null {
  const f = finding.toLowerCase();
  if (/^(offered|vulnerable|supported)/.test(f)) return true;
  if (/not offered|connection failed rather than|responded with higher version/.test(f)) return false;
  return null;
}

/** The IANA name in a cipher line: " xc02c   TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384   ECDH 253 …". */
function cipherName(finding: string): string | undefined {
  const m = /(?:^|\s)x[0-9a-f]{2,6}\s+(\S+)/i.exec(finding);
  return m?.[1];
}

function perProtocol<T>(value: (p: ProtocolName) => T): Record<ProtocolName, T> {
  return Object.fromEntries(PROTOCOLS.map((p) => [p, value(p)])) as Record<ProtocolName, T>;
}

/** Turns testssl's findings into protocols, ciphers and certificate verdicts. */
export function interpretFindings(
  findings: readonly TestsslFinding[],
  checks: readonly string[],
): Omit<TestsslResult, 'seconds' | 'exitCode' | 'args'> {
  const byId = (id: string) => findings.find((f) => f.id === id || f.id.startsWith(`${id} `));
  const noTls = findings.some(
    (f) => f.id === 'optimal_proto' && /doesn't seem to be a TLS\/SSL enabled server/i.test(f.finding),
  );
  const protocols = perProtocol((p) => {
    const f = byId(PROTOCOL_IDS[p].finding);
    return f ? protocolVerdict(f.finding) : null;
  });
  const perProtoRun = checks.includes('-E') || checks.includes('--cipher-per-proto');
  const ciphers = perProtoRun
    ? perProtocol((p) => {
        const prefix = `cipher-${PROTOCOL_IDS[p].cipher}_x`;
        return findings.filter((f) => f.id.startsWith(prefix)).flatMap((f) => cipherName(f.finding) ?? []);
      })
    : undefined;
  const listed = ciphers
    ? Object.values(ciphers).flat()
    : findings.filter((f) => /^cipher_x[0-9a-f]+$/i.test(f.id)).flatMap((f) => cipherName(f.finding) ?? []);
  const certRun = checks.length === 0 || checks.includes('-S') || checks.includes('--server-defaults');
  return {
    tls: !noTls,
    protocols,
    ciphers,
    allCiphers: [...new Set(listed)],
    certificate: certRun ? certificateOf(byId) : undefined,
    problems: findings
      .filter((f) => f.severity === 'WARN' || f.severity === 'FATAL')
      .map((f) => `${f.id}: ${f.finding}`),
    findings,
  };
}

function certificateOf(byId: (id: string) => TestsslFinding | undefined): TestsslCertificate | null {
  const chain = byId('cert_chain_of_trust');
  const expiration = byId('cert_expirationStatus');
  if (!chain || !expiration) return null;
  const size = /^(\S+)\s+(\d+)\s+bits/.exec(byId('cert_keySize')?.finding ?? '');
  const notAfter = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})/.exec(byId('cert_notAfter')?.finding ?? '');
  return {
    trusted: /^passed/i.test(chain.finding),
    expired: /^expired/i.test(expiration.finding),
    selfSigned: /self[- ]signed\)/i.test(chain.finding),
    nameMatches: /^ok\b/i.test(byId('cert_trust')?.finding ?? ''),
    keyType: size?.[1],
    keyBits: size ? Number(size[2]) : undefined,
    signatureAlgorithm: byId('cert_signatureAlgorithm')?.finding,
    notAfter: notAfter ? new Date(`${notAfter[1]}T${notAfter[2]}:00Z`) : undefined,
    chainOfTrust: chain.finding,
    expirationStatus: expiration.finding,
  };
}

/** What `postern audit --json` reports that testssl also finds (AuditReport fits). */
export interface AuditFacts {
  readonly protocols: Readonly<Partial<Record<ProtocolName, boolean | null>>>;
  readonly ciphers: Readonly<Partial<Record<ProtocolName, readonly (string | { readonly name: string })[]>>>;
  readonly certificate: {
    readonly trusted: boolean;
    readonly nameMatches: boolean;
    readonly chain: readonly {
      readonly daysLeft: number;
      readonly selfSigned: boolean;
      readonly keyType: string;
      readonly keyBits?: number | undefined;
      readonly signatureAlgorithm: string;
      readonly validTo?: string | undefined;
    }[];
  } | null;
}

/** "ecdsa-with-SHA256" / "ECDSA with SHA256" → "ecdsa/sha256"; "sha256WithRSAEncryption" / "SHA256 with RSA" → "rsa/sha256". */
export function normalizeSignatureAlgorithm(name: string): string {
  const s = name.toLowerCase();
  const family = /pss/.test(s)
    ? 'rsa-pss'
    : /ed25519/.test(s)
      ? 'ed25519'
      : /ed448/.test(s)
        ? 'ed448'
        : /ecdsa/.test(s)
          ? 'ecdsa'
          : /rsa/.test(s)
            ? 'rsa'
            : /dsa/.test(s)
              ? 'dsa'
              : s;
  const hash = /sha-?(1|224|256|384|512)\b|sha(1|224|256|384|512)|md5|md2/.exec(s);
  const digest = hash ? hash[0].replace('-', '') : '';
  return digest ? `${family}/${digest}` : family;
}

/** Node's asymmetricKeyType ("ec", "rsa", "rsa-pss", "ed25519") and testssl's ("EC", "RSA", …) as one word. */
function normalizeKeyType(type: string): string {
  const t = type.toLowerCase();
  if (t.startsWith('rsa')) return 'rsa';
  if (t === 'ec' || t === 'ecdsa') return 'ec';
  return t;
}

function nameOf(c: string | { readonly name: string }): string {
  return typeof c === 'string' ? c : c.name;
}

function yesNo(v: boolean | null | undefined): string {
  return v === true ? 'offered' : v === false ? 'not offered' : 'not tested';
}

/**
 * Where `postern audit` and testssl disagree on protocols, cipher suites (per protocol when testssl ran -E,
 * else as one set) and certificate verdicts: one readable line each; [] when they agree. What testssl could
 * not test (null) is not held against us.
 *
 * @example for (const line of compareWithTestssl(report, theirs)) console.log(line);
 */
export function compareWithTestssl(ours: AuditFacts, theirs: TestsslResult): string[] {
  const out: string[] = [];
  if (!theirs.tls) {
    const offered = PROTOCOLS.filter((p) => ours.protocols[p] === true);
    if (offered.length > 0) {
      out.push(`testssl found no TLS on the port; postern says offered: ${offered.join(', ')}`);
    }
    if (ours.certificate) out.push('testssl got no certificate; postern reports one');
    return out;
  }
  for (const p of PROTOCOLS) {
    const t = theirs.protocols[p];
    const o = ours.protocols[p];
    if (t === null || t === o) continue;
    out.push(`${p}: testssl ${yesNo(t)}, postern ${yesNo(o)}`);
  }
  const missingAndExtra = (label: string, theirList: readonly string[], ourList: readonly string[]) => {
    const mine = new Set(ourList);
    const other = new Set(theirList);
    const missing = [...other].filter((c) => !mine.has(c));
    const extra = [...mine].filter((c) => !other.has(c));
    if (missing.length > 0) out.push(`${label}: testssl accepted, postern did not: ${missing.join(', ')}`);
    if (extra.length > 0) out.push(`${label}: postern accepted, testssl did not: ${extra.join(', ')}`);
  };
  const ourCiphers = (p: ProtocolName) => (ours.ciphers[p] ?? []).map(nameOf);
  if (theirs.ciphers) {
    for (const p of PROTOCOLS) {
      // A protocol testssl could not test has no cipher list to compare with.
      if (theirs.protocols[p] === null && theirs.ciphers[p].length === 0) continue;
      missingAndExtra(`${p} ciphers`, theirs.ciphers[p], ourCiphers(p));
    }
  } else if (theirs.allCiphers.length > 0) {
    missingAndExtra('ciphers (any protocol)', theirs.allCiphers, PROTOCOLS.flatMap(ourCiphers));
  }
  out.push(...compareCertificates(ours.certificate, theirs.certificate));
  return out;
}

function compareCertificates(
  ours: AuditFacts['certificate'],
  theirs: TestsslCertificate | null | undefined,
): string[] {
  if (theirs === undefined) return [];
  if (theirs === null) return ours ? ['certificate: testssl got none, postern reports one'] : [];
  if (!ours) return ['certificate: testssl reports one, postern none'];
  const out: string[] = [];
  const leaf = ours.chain[0];
  const verdict = (what: string, t: boolean, o: boolean | undefined, evidence = '') => {
    if (t !== o) out.push(`certificate ${what}: testssl ${t}, postern ${o}${evidence}`);
  };
  verdict('trusted', theirs.trusted, ours.trusted, ` (testssl chain of trust: "${theirs.chainOfTrust}")`);
  verdict('name matches', theirs.nameMatches, ours.nameMatches);
  verdict(
    'expired',
    theirs.expired,
    leaf ? leaf.daysLeft < 0 : undefined,
    ` (testssl: "${theirs.expirationStatus}", postern daysLeft ${leaf?.daysLeft})`,
  );
  verdict('self-signed', theirs.selfSigned, leaf?.selfSigned);
  if (!leaf) return [...out, 'certificate: postern reports no chain'];
  if (theirs.keyBits !== undefined && theirs.keyBits !== leaf.keyBits) {
    out.push(`certificate key size: testssl ${theirs.keyBits}, postern ${leaf.keyBits}`);
  }
  if (theirs.keyType !== undefined && normalizeKeyType(theirs.keyType) !== normalizeKeyType(leaf.keyType)) {
    out.push(`certificate key type: testssl ${theirs.keyType}, postern ${leaf.keyType}`);
  }
  if (
    theirs.signatureAlgorithm !== undefined &&
    normalizeSignatureAlgorithm(theirs.signatureAlgorithm) !==
      normalizeSignatureAlgorithm(leaf.signatureAlgorithm)
  ) {
    out.push(
      `certificate signature algorithm: testssl "${theirs.signatureAlgorithm}", postern "${leaf.signatureAlgorithm}"`,
    );
  }
  const validTo = leaf.validTo ? Date.parse(leaf.validTo) : Number.NaN;
  // testssl prints notAfter to the minute.
  if (
    theirs.notAfter &&
    Number.isFinite(validTo) &&
    Math.abs(validTo - theirs.notAfter.getTime()) >= 60_000
  ) {
    out.push(`certificate notAfter: testssl ${theirs.notAfter.toISOString()}, postern ${leaf.validTo}`);
  }
  return out;
}
