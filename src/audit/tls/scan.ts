/**
 * The TLS scanner of `postern audit`: which protocols a server accepts, every cipher suite per protocol and
 * the server's order of preference, key-exchange groups, DH sizes, secure renegotiation, compression and
 * TLS_FALLBACK_SCSV — from hand-built hellos (hello.ts) whose answers are read but never completed.
 *
 * Protocols and suites come from enumerate.ts; the probes here build on what it found.
 */
import type { AuditTarget, ProtocolName, TlsScanResult } from '../types.js';
import { PROTOCOLS } from '../types.js';
import { type Enumeration, Enumerator, TLS_VERSIONS } from './enumerate.js';
import {
  MAX_SUITES_PER_HELLO,
  makeKeyShare,
  NAMED_GROUPS,
  type TlsVersionName,
  versionName,
} from './hello.js';
import { type ProbeFailure, ProbeSession } from './probe.js';
import { parseServerKeyExchange, type ServerReply } from './server-hello.js';
import { compareStrength, suiteByCode } from './suites.js';

export interface TlsScanOptions {
  /** Connections open at once; default 8. */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

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

/** The result when no protocol could be tested: everything null, one note why. */
function untested(session: ProbeSession, note: string): TlsScanResult {
  return {
    protocols: perProtocol(() => null),
    ciphers: perProtocol(() => []),
    serverPreference: perProtocol(() => null),
    groups: [],
    dhBits: [],
    secureRenegotiation: null,
    compression: null,
    fallbackScsv: null,
    notes: [note],
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

  const found = await new Enumerator(session).enumerate();
  if (session.fatal)
    return untested(session, `no TLS probe connection could be opened: ${session.fatal.message}`);
  if (found.plaintext) {
    // A STARTTLS port scanned as implicit TLS greets in plaintext: that says nothing about any protocol.
    const said = /plaintext "[^"]*"/.exec(found.plaintext.message)?.[0] ?? 'plaintext';
    return untested(session, `no protocol tested: the port answered in ${said}, not TLS (a STARTTLS port?)`);
  }
  const enums = found.tls;
  const ssl2 = found.sslv2;
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
  // RFC 7507 matters only below TLS 1.3: a TLS 1.3 server signals a downgrade in its ServerHello random
  // (RFC 8446 §4.1.3), which a TLS 1.3 client checks whatever the SCSV says.
  const below13 = offered.filter((v) => v !== 'TLSv1.3');
  const tls13 = offered.includes('TLSv1.3');
  const second = !tls13 && below13.length >= 2 ? below13[below13.length - 2] : undefined;

  const [preferences, groups13, groupsLegacy, dhBits, compression, fallbackScsv] = await Promise.all([
    Promise.all(offered.map((v) => scan.preference(v, enums.get(v) as Enumeration))),
    tls13 ? scan.groups13(accepted('TLSv1.3')) : Promise.resolve([]),
    ecdhe ? scan.groupsLegacy(ecdhe.version, ecdhe.codes) : Promise.resolve([]),
    dhe ? scan.dhBits(dhe.version, dhe.codes) : Promise.resolve([]),
    legacyBest ? scan.compression(legacyBest, capped(accepted(legacyBest))) : Promise.resolve(null),
    second ? scan.fallback(second, capped(accepted(second))) : Promise.resolve(null),
  ]);

  if (!legacyBest)
    session.note('secure renegotiation and compression not tested: no protocol below TLS 1.3 offered');
  if (tls13) session.note("TLS_FALLBACK_SCSV not tested: TLS 1.3's downgrade protection applies");
  else if (!second) session.note('TLS_FALLBACK_SCSV not tested: fewer than two protocol versions offered');

  const prefs = new Map(offered.map((v, i) => [v, preferences[i]]));
  const groupSet = new Set([...groups13, ...groupsLegacy]);
  const renegotiationHello = legacyBest ? enums.get(legacyBest)?.firstHello : undefined;

  return {
    protocols: perProtocol((p) => (p === 'SSLv2' ? ssl2.offered : (enums.get(p)?.offered ?? null))),
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
