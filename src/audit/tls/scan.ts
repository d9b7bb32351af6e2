/**
 * The TLS scanner of `postern audit`: which protocols a server accepts, every cipher suite per protocol and
 * the server's order of preference, key-exchange groups, DH sizes, secure renegotiation, compression and
 * TLS_FALLBACK_SCSV — from hand-built hellos (hello.ts) whose answers are read but never completed.
 *
 * Suites are enumerated testssl.sh-style: offer a batch, note the suite the server picks, offer the batch
 * without it, repeat until the server refuses. Batches keep every hello near 512 bytes.
 */
import type { PosternError } from '../../core/errors.js';
import type { AuditTarget, CipherSuiteInfo, ProtocolName, TlsScanResult } from '../types.js';
import { PROTOCOLS } from '../types.js';
import {
  batches,
  MAX_SUITES_PER_HELLO,
  makeKeyShare,
  NAMED_GROUPS,
  type TlsVersionName,
  VERSION_CODES,
  versionName,
} from './hello.js';
import { type ProbeFailure, ProbeSession } from './probe.js';
import { parseServerKeyExchange, type ServerHello, type ServerReply } from './server-hello.js';
import {
  compareStrength,
  LEGACY_SUITES,
  SSL2_CIPHER_KINDS,
  ssl2KindByCode,
  suiteByCode,
  suiteCode,
  TLS13_SUITES,
} from './suites.js';

export interface TlsScanOptions {
  /** Connections open at once; default 8. */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

const TLS_VERSIONS: readonly TlsVersionName[] = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Groups tested, strongest first (approximate security level; ties in the order clients prefer them). */
const GROUPS_TESTED = [
  'secp521r1',
  'x448',
  'ffdhe8192',
  'secp384r1',
  'ffdhe6144',
  'ffdhe4096',
  'x25519',
  'secp256r1',
  'ffdhe3072',
  'ffdhe2048',
] as const;
const EC_GROUPS_TESTED = GROUPS_TESTED.filter((g) => !g.startsWith('ffdhe'));

/** What enumerating one protocol found. */
interface Enumeration {
  readonly offered: boolean | null;
  /** Accepted suite codes, in the order found. */
  readonly accepted: readonly number[];
  /** Whether all accepted suites came from one batch (then the order found is the server's order). */
  readonly oneBatch: boolean;
  /** The first ServerHello of this protocol (for renegotiation_info). */
  readonly firstHello?: ServerHello | undefined;
  /** Not a single answer, and every probe timed out (the server stays silent to this version). */
  readonly silent?: boolean | undefined;
}

type Outcome = ServerReply | ProbeFailure;

function isFailure(r: { kind: string }): r is ProbeFailure {
  return r.kind === 'error';
}

/** Orders codes as we offer them (strongest first). */
function ourOrder(codes: readonly number[]): number[] {
  return [...codes].sort((a, b) => compareStrength(suiteByCode(a), suiteByCode(b)));
}

class Scan {
  readonly #s: ProbeSession;

  constructor(s: ProbeSession) {
    this.#s = s;
  }

  #describe(r: Outcome): string {
    if (isFailure(r)) return r.error.message;
    if (r.kind === 'alert') return `alert ${r.name}`;
    if (r.kind === 'closed') return 'the connection closed';
    return `a ServerHello for ${versionName(r.hello.version) ?? r.hello.version.toString(16)}`;
  }

  /** Offers `batch` again and again, each time without the suite the server chose, until it refuses. */
  async #walk(version: TlsVersionName, batch: readonly number[]) {
    const remaining = [...batch];
    const found: number[] = [];
    let firstHello: ServerHello | undefined;
    // A batch ends in a refusal (alert, close, another version) or, when `failed`, without a usable answer.
    let failed = false;
    let timedOut = false;
    while (remaining.length > 0) {
      const r = await this.#s.tls({ version, suites: remaining });
      if (isFailure(r)) {
        failed = true;
        timedOut = r.error.code === 'ETIMEOUT';
        // Silence from the first hello on is judged per protocol in scanTls(); anything else is noted here.
        if (!timedOut || found.length > 0)
          this.#s.note(`${version}: a probe got no usable answer: ${r.error.message}`);
        break;
      }
      if (r.kind === 'closed') break;
      if (r.kind === 'alert') {
        const expected = ['handshake_failure', 'insufficient_security', 'protocol_version'];
        if (!expected.includes(r.name))
          this.#s.note(`${version}: the server refused a hello with ${this.#describe(r)}`);
        break;
      }
      // The server answered with another version: it does not speak this one.
      if (r.hello.version !== VERSION_CODES[version]) break;
      const i = remaining.indexOf(r.hello.cipherSuite);
      if (i < 0) {
        this.#s.note(
          `${version}: the server chose ${suiteByCode(r.hello.cipherSuite).name}, which the hello did not offer`,
        );
        break;
      }
      firstHello ??= r.hello;
      found.push(r.hello.cipherSuite);
      remaining.splice(i, 1);
    }
    return { found, firstHello, failed, timedOut };
  }

  async enumerate(version: TlsVersionName): Promise<Enumeration> {
    const pool = (version === 'TLSv1.3' ? TLS13_SUITES : LEGACY_SUITES).map(suiteCode);
    const walks = await Promise.all(batches(pool).map((b) => this.#walk(version, b)));
    const accepted = walks.flatMap((w) => w.found);
    const firstHello = walks.find((w) => w.firstHello)?.firstHello;
    const oneBatch = walks.filter((w) => w.found.length > 0).length <= 1;
    if (accepted.length > 0) return { offered: true, accepted, oneBatch, firstHello };
    // Not a single suite: refused outright, or no answer we could read.
    const unanswered = walks.every((w) => w.failed);
    return { offered: unanswered ? null : false, accepted, oneBatch, silent: walks.every((w) => w.timedOut) };
  }

  async sslv2(): Promise<{ offered: boolean | null; ciphers: CipherSuiteInfo[]; silent?: boolean }> {
    const r = await this.#s.sslv2(SSL2_CIPHER_KINDS.map(suiteCode));
    if (r.kind === 'sslv2-hello') {
      const offered = new Set(SSL2_CIPHER_KINDS.map(suiteCode));
      const kinds = r.cipherKinds.filter((k) => offered.has(k));
      return { offered: kinds.length > 0, ciphers: kinds.map(ssl2KindByCode) };
    }
    if (r.kind !== 'error') return { offered: false, ciphers: [] };
    // An answer that is neither SSLv2 nor TLS still says the server does not speak SSLv2.
    if (r.error.code === 'ETLS_HANDSHAKE') return { offered: false, ciphers: [] };
    const silent = r.error.code === 'ETIMEOUT';
    if (!silent) this.#s.note(`SSLv2: not tested: ${r.error.message}`);
    return { offered: null, ciphers: [], silent };
  }

  /**
   * Whether the server picks by its own order: offer the suites in our order and reversed; the same choice
   * both times means server order. Then the server's full order, by repeated removal when needed.
   */
  async preference(
    version: TlsVersionName,
    e: Enumeration,
  ): Promise<{ preference: boolean | null; order: number[] }> {
    const ours = ourOrder(e.accepted);
    if (ours.length < 2) return { preference: null, order: ours };
    if (ours.length > MAX_SUITES_PER_HELLO) {
      this.#s.note(`${version}: more than ${MAX_SUITES_PER_HELLO} suites accepted; preference not tested`);
      return { preference: null, order: ours };
    }
    const reversed = [...ours].reverse();
    const [a, b] = await Promise.all([
      this.#s.tls({ version, suites: ours }),
      this.#s.tls({ version, suites: reversed }),
    ]);
    if (a.kind !== 'hello' || b.kind !== 'hello') {
      this.#s.note(`${version}: cipher order not determined (${this.#describe(a.kind !== 'hello' ? a : b)})`);
      return { preference: null, order: ours };
    }
    const [first, second] = [a.hello.cipherSuite, b.hello.cipherSuite];
    if (first !== second) {
      if (first === ours[0] && second === reversed[0]) return { preference: false, order: ours };
      this.#s.note(`${version}: the server's choice follows neither its own nor the client's order`);
      return { preference: null, order: ours };
    }
    if (e.oneBatch) return { preference: true, order: [...e.accepted] };
    return { preference: true, order: await this.#serverOrder(version, ours) };
  }

  async #serverOrder(version: TlsVersionName, suites: readonly number[]): Promise<number[]> {
    const remaining = [...suites];
    const order: number[] = [];
    while (remaining.length > 1) {
      const r = await this.#s.tls({ version, suites: remaining });
      const i = r.kind === 'hello' ? remaining.indexOf(r.hello.cipherSuite) : -1;
      if (i < 0) {
        this.#s.note(`${version}: server order incomplete (${this.#describe(r)})`);
        break;
      }
      order.push(...remaining.splice(i, 1));
    }
    return [...order, ...remaining];
  }

  /** TLS 1.3 groups: one hello per group, with a real key share where node:crypto can make one. */
  async groups13(suites: readonly number[]): Promise<string[]> {
    const found = await Promise.all(
      GROUPS_TESTED.map(async (name) => {
        const group = NAMED_GROUPS[name] as number;
        const share = makeKeyShare(group);
        const r = await this.#s.tls({
          version: 'TLSv1.3',
          suites,
          groups: [group],
          keyShares: share ? [share] : [],
        });
        return r.kind === 'hello' && r.hello.selectedGroup === group;
      }),
    );
    return GROUPS_TESTED.filter((_, i) => found[i]);
  }

  /** TLS ≤ 1.2 curves: ECDHE suites with one curve at a time, read back from the ServerKeyExchange. */
  async groupsLegacy(version: TlsVersionName, ecdhe: readonly number[]): Promise<string[]> {
    const found = await Promise.all(
      EC_GROUPS_TESTED.map(async (name) => {
        const group = NAMED_GROUPS[name] as number;
        const r = await this.#s.tls({ version, suites: ecdhe, groups: [group] }, 'done');
        if (r.kind !== 'hello' || !r.serverKeyExchange) return false;
        return this.#keyExchange(r)?.group === group;
      }),
    );
    return EC_GROUPS_TESTED.filter((_, i) => found[i]);
  }

  /** The DH prime size the server uses for DHE suites. */
  async dhBits(version: TlsVersionName, dhe: readonly number[]): Promise<number[]> {
    const r = await this.#s.tls({ version, suites: dhe }, 'done');
    const bits = r.kind === 'hello' ? this.#keyExchange(r)?.dhBits : undefined;
    if (bits === undefined) this.#s.note(`${version}: no DH parameters read (${this.#describe(r)})`);
    return bits === undefined ? [] : [bits];
  }

  #keyExchange(r: Extract<ServerReply, { kind: 'hello' }>) {
    if (!r.serverKeyExchange) return undefined;
    try {
      return parseServerKeyExchange(r.serverKeyExchange, suiteByCode(r.hello.cipherSuite).kx);
    } catch (err) {
      this.#s.note(`unreadable ServerKeyExchange: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** CRIME: does the server pick DEFLATE when offered? */
  async compression(version: TlsVersionName, suites: readonly number[]): Promise<boolean | null> {
    const r = await this.#s.tls({ version, suites, compression: true });
    if (r.kind === 'hello') return r.hello.compression !== 0;
    this.#s.note(`compression not tested (${this.#describe(r)})`);
    return null;
  }

  /** RFC 7507: a hello for a lower version than the server's best, with TLS_FALLBACK_SCSV. */
  async fallback(version: TlsVersionName, suites: readonly number[]): Promise<boolean | null> {
    const r = await this.#s.tls({ version, suites, fallbackScsv: true });
    if (r.kind === 'alert' && r.name === 'inappropriate_fallback') return true;
    if (r.kind === 'hello') return false;
    this.#s.note(`TLS_FALLBACK_SCSV not determined (${version} hello got ${this.#describe(r)})`);
    return null;
  }
}

const perProtocol = <T>(value: (p: ProtocolName) => T): Record<ProtocolName, T> =>
  Object.fromEntries(PROTOCOLS.map((p) => [p, value(p)])) as Record<ProtocolName, T>;

/** The result when not one probe connection could be opened: everything untested, one note why. */
function unreachable(session: ProbeSession, error: PosternError): TlsScanResult {
  return {
    protocols: perProtocol(() => null),
    ciphers: perProtocol(() => []),
    serverPreference: perProtocol(() => null),
    groups: [],
    dhBits: [],
    secureRenegotiation: null,
    compression: null,
    fallbackScsv: null,
    notes: [`no TLS probe connection could be opened: ${error.message}`],
    connections: session.connections,
  };
}

/**
 * Scans the TLS configuration of `target` with hand-built hellos over openTlsProbe() connections.
 *
 * @example
 * const result = await scanTls({ host: 'mx.example.org', port: 25, mode: 'starttls' });
 * result.protocols['TLSv1.0']; // false
 */
export async function scanTls(target: AuditTarget, options: TlsScanOptions = {}): Promise<TlsScanResult> {
  const session = new ProbeSession(target, options);
  const scan = new Scan(session);

  const [ssl2, ...enumerations] = await Promise.all([
    scan.sslv2(),
    ...TLS_VERSIONS.map((v) => scan.enumerate(v)),
  ]);
  if (session.fatal) return unreachable(session, session.fatal);
  const enums = new Map(TLS_VERSIONS.map((v, i) => [v, enumerations[i] as Enumeration]));
  // A server that answers some versions but stays silent to another does not speak that one (as testssl.sh
  // reads it); silence to every version leaves them all untested.
  const silentMeansNo = [...enums.values()].some((e) => e.offered === true);
  const silence = (p: ProtocolName) => {
    const verdict = silentMeansNo ? '; taken as not offered' : '';
    session.note(`${p}: no answer to its hellos within ${session.timeout} ms${verdict}`);
    return silentMeansNo ? false : null;
  };
  for (const [v, e] of enums) if (e.offered === null && e.silent) enums.set(v, { ...e, offered: silence(v) });
  const ssl2Offered = ssl2.offered === null && ssl2.silent ? silence('SSLv2') : ssl2.offered;
  const offered = TLS_VERSIONS.filter((v) => enums.get(v)?.offered === true);
  const accepted = (v: TlsVersionName) => enums.get(v)?.accepted ?? [];
  const capped = (codes: readonly number[]) => ourOrder(codes).slice(0, MAX_SUITES_PER_HELLO);
  const legacyBest = [...offered].reverse().find((v) => v !== 'TLSv1.3');
  const byKx = (kx: string) =>
    [...offered].reverse().flatMap((v) => {
      const codes = accepted(v).filter((c) => suiteByCode(c).kx === kx && v !== 'TLSv1.3');
      return codes.length > 0 ? [{ version: v, codes: capped(codes) }] : [];
    })[0];
  const ecdhe = byKx('ECDHE');
  const dhe = byKx('DHE');
  const second = offered.length >= 2 ? offered[offered.length - 2] : undefined;

  const [preferences, groups13, groupsLegacy, dhBits, compression, fallbackScsv] = await Promise.all([
    Promise.all(offered.map((v) => scan.preference(v, enums.get(v) as Enumeration))),
    offered.includes('TLSv1.3') ? scan.groups13(accepted('TLSv1.3')) : Promise.resolve([]),
    ecdhe ? scan.groupsLegacy(ecdhe.version, ecdhe.codes) : Promise.resolve([]),
    dhe ? scan.dhBits(dhe.version, dhe.codes) : Promise.resolve([]),
    legacyBest ? scan.compression(legacyBest, capped(accepted(legacyBest))) : Promise.resolve(null),
    second ? scan.fallback(second, capped(accepted(second))) : Promise.resolve(null),
  ]);

  if (!legacyBest)
    session.note('secure renegotiation and compression not tested: no protocol below TLS 1.3 offered');
  if (!second) session.note('TLS_FALLBACK_SCSV not tested: fewer than two protocol versions offered');

  const prefs = new Map(offered.map((v, i) => [v, preferences[i]]));
  const groupSet = new Set([...groups13, ...groupsLegacy]);
  const renegotiationHello = legacyBest ? enums.get(legacyBest)?.firstHello : undefined;

  return {
    protocols: perProtocol((p) => (p === 'SSLv2' ? ssl2Offered : (enums.get(p)?.offered ?? null))),
    ciphers: perProtocol((p) =>
      p === 'SSLv2' ? ssl2.ciphers : (prefs.get(p)?.order ?? ourOrder(accepted(p))).map(suiteByCode),
    ),
    serverPreference: perProtocol((p) => (p === 'SSLv2' ? null : (prefs.get(p)?.preference ?? null))),
    groups: GROUPS_TESTED.filter((g) => groupSet.has(g)),
    dhBits,
    secureRenegotiation: renegotiationHello ? renegotiationHello.secureRenegotiation : null,
    compression,
    fallbackScsv,
    notes: session.notes,
    connections: session.connections,
  };
}
