/**
 * The cipher-suite registry: every IANA TLS cipher suite (plus the pre-standard codes servers still answer to)
 * and the SSLv2 cipher kinds, each as a CipherSuiteInfo. The code → name table is data (suite-table.ts); the
 * properties (key exchange, authentication, bulk cipher, bits, MAC, AEAD, forward secrecy, weak classes) are
 * derived from the IANA name by the parser below, so a new suite needs one table line and no hand-typed facts.
 */
import { InputError } from '../../core/errors.js';
import type { CipherSuiteInfo, CipherWeakness } from '../types.js';
import { SSL2_KIND_TABLE, SUITE_TABLE } from './suite-table.js';

/** What the parser derives from a name: everything of CipherSuiteInfo but name, OpenSSL name and code. */
export type SuiteProperties = Omit<CipherSuiteInfo, 'name' | 'openssl' | 'code'>;

interface KeyExchange {
  readonly kx: string;
  readonly auth: string;
  readonly fs: boolean;
  readonly weak: readonly CipherWeakness[];
}

const kex = (kx: string, auth: string, fs: boolean, ...weak: CipherWeakness[]): KeyExchange => ({
  kx,
  auth,
  fs,
  weak,
});

// The part of an IANA name before "_WITH_". Anonymous DH is ephemeral but unauthenticated, so it earns no
// forward-secrecy credit; EXPORT variants keep their base exchange and gain the EXPORT class.
const KEY_EXCHANGES: Readonly<Record<string, KeyExchange>> = {
  NULL: kex('NULL', 'anon', false, 'anon'),
  RSA: kex('RSA', 'RSA', false, 'static-RSA'),
  RSA_FIPS: kex('RSA', 'RSA', false, 'static-RSA'),
  RSA_EXPORT: kex('RSA', 'RSA', false, 'static-RSA', 'EXPORT'),
  RSA_EXPORT1024: kex('RSA', 'RSA', false, 'static-RSA', 'EXPORT'),
  DH_DSS: kex('DH', 'DSS', false, 'static-DH'),
  DH_RSA: kex('DH', 'RSA', false, 'static-DH'),
  DH_DSS_EXPORT: kex('DH', 'DSS', false, 'static-DH', 'EXPORT'),
  DH_RSA_EXPORT: kex('DH', 'RSA', false, 'static-DH', 'EXPORT'),
  DHE_DSS: kex('DHE', 'DSS', true),
  DHE_RSA: kex('DHE', 'RSA', true),
  DHE_DSS_EXPORT: kex('DHE', 'DSS', true, 'EXPORT'),
  DHE_RSA_EXPORT: kex('DHE', 'RSA', true, 'EXPORT'),
  DHE_DSS_EXPORT1024: kex('DHE', 'DSS', true, 'EXPORT'),
  DH_anon: kex('DHE', 'anon', false, 'anon'),
  DH_anon_EXPORT: kex('DHE', 'anon', false, 'anon', 'EXPORT'),
  KRB5: kex('KRB5', 'KRB5', false),
  KRB5_EXPORT: kex('KRB5', 'KRB5', false, 'EXPORT'),
  PSK: kex('PSK', 'PSK', false),
  DHE_PSK: kex('DHE-PSK', 'PSK', true),
  PSK_DHE: kex('DHE-PSK', 'PSK', true),
  RSA_PSK: kex('RSA-PSK', 'RSA', false, 'static-RSA'),
  ECDHE_PSK: kex('ECDHE-PSK', 'PSK', true),
  ECDH_ECDSA: kex('ECDH', 'ECDSA', false, 'static-DH'),
  ECDH_RSA: kex('ECDH', 'RSA', false, 'static-DH'),
  ECDHE_ECDSA: kex('ECDHE', 'ECDSA', true),
  ECDHE_RSA: kex('ECDHE', 'RSA', true),
  ECDH_anon: kex('ECDHE', 'anon', false, 'anon'),
  SRP_SHA: kex('SRP', 'SRP', false),
  SRP_SHA_RSA: kex('SRP', 'RSA', false),
  SRP_SHA_DSS: kex('SRP', 'DSS', false),
  ECCPWD: kex('ECCPWD', 'ECCPWD', true),
  CECPQ1_RSA: kex('CECPQ1', 'RSA', true),
  CECPQ1_ECDSA: kex('CECPQ1', 'ECDSA', true),
  GOSTR341094: kex('GOST', 'GOST94', false),
  GOSTR341001: kex('GOST', 'GOST01', false),
  GOSTR341112_256: kex('GOST', 'GOST12', false),
  GOSTR341094_RSA: kex('RSA', 'RSA', false, 'static-RSA'),
};

/** TLS 1.3 suites name no key exchange: any (EC)DHE group, any certificate. */
const TLS13_KEY_EXCHANGE = kex('any', 'any', true);

interface Bulk {
  readonly encryption: string;
  readonly bits: number;
  readonly aead: boolean;
  readonly weak: readonly CipherWeakness[];
  /** The MAC / hash part of the name that follows the cipher ("" when none follows). */
  readonly rest: string;
  /** TLS 1.3-only cipher (the GOST MGM suites carry "_WITH_" yet belong to TLS 1.3). */
  readonly tls13?: boolean;
}

type BulkRule = readonly [RegExp, (m: RegExpExecArray) => Omit<Bulk, 'rest'>];

const cbc = (encryption: string, bits: number, ...weak: CipherWeakness[]) => ({
  encryption,
  bits,
  aead: false,
  weak: [...weak, 'CBC' as const],
});

// Each rule matches the text after "_WITH_" (or after "TLS_" for TLS 1.3 names); group "rest" is the MAC.
const BULK_RULES: readonly BulkRule[] = [
  [/^NULL(?:_(?<rest>.+))?$/, () => ({ encryption: 'NULL', bits: 0, aead: false, weak: ['NULL'] })],
  [
    /^(?<rest>SHA256|SHA384)_\k<rest>$/,
    () => ({ encryption: 'NULL', bits: 0, aead: false, weak: ['NULL'], tls13: true }),
  ],
  [
    /^RC4_(\d+)_(?<rest>.+)$/,
    (m) => ({ encryption: `RC4-${m[1]}`, bits: Number(m[1]), aead: false, weak: ['RC4'] }),
  ],
  [/^RC2_(?:CBC_)?(\d+)_(?<rest>.+)$/, (m) => cbc(`RC2-CBC-${m[1]}`, Number(m[1]), 'RC2')],
  [/^IDEA_CBC_(?<rest>.+)$/, () => cbc('IDEA-CBC', 128, 'IDEA')],
  [/^DES40_CBC_(?<rest>.+)$/, () => cbc('DES40-CBC', 40, 'DES')],
  [/^DES_CBC_40_(?<rest>.+)$/, () => cbc('DES-CBC-40', 40, 'DES')],
  [/^DES_CBC_(?<rest>.+)$/, () => cbc('DES-CBC', 56, 'DES')],
  // Three-key 3DES has 168 key bits but 112 bits of strength (meet-in-the-middle); report the effective size.
  [/^3DES_EDE_CBC_(?<rest>.+)$/, () => cbc('3DES-EDE-CBC', 112, '3DES')],
  [/^SEED_CBC_(?<rest>.+)$/, () => cbc('SEED-CBC', 128)],
  [
    /^(AES|CAMELLIA|ARIA)_(128|256)_(CBC|GCM|CCM_8|CCM)(?:_(?<rest>.+))?$/,
    (m) => {
      const mode = (m[3] ?? '').replace('_', '-');
      const encryption = `${m[1]}-${m[2]}-${mode}`;
      return mode === 'CBC'
        ? cbc(encryption, Number(m[2]))
        : { encryption, bits: Number(m[2]), aead: true, weak: [] };
    },
  ],
  [
    /^CHACHA20_POLY1305(?:_(?<rest>.+))?$/,
    () => ({ encryption: 'CHACHA20-POLY1305', bits: 256, aead: true, weak: [] }),
  ],
  [/^28147_CNT_(?<rest>.+)$/, () => ({ encryption: 'GOST28147-CNT', bits: 256, aead: false, weak: [] })],
  [
    /^(KUZNYECHIK|MAGMA)_CTR_(?<rest>OMAC)$/,
    (m) => ({ encryption: `${m[1]}-CTR`, bits: 256, aead: false, weak: [] }),
  ],
  [
    /^(KUZNYECHIK|MAGMA)_MGM_([LS])$/,
    (m) => ({ encryption: `${m[1]}-MGM-${m[2]}`, bits: 256, aead: true, weak: [], tls13: true }),
  ],
  [
    /^SM4_(GCM|CCM)_(?<rest>SM3)$/,
    (m) => ({ encryption: `SM4-${m[1]}`, bits: 128, aead: true, weak: [], tls13: true }),
  ],
  [
    /^AEGIS_(256|128L)_(?<rest>SHA\d+)$/,
    (m) => ({
      encryption: `AEGIS-${m[1]}`,
      bits: m[1] === '256' ? 256 : 128,
      aead: true,
      weak: [],
      tls13: true,
    }),
  ],
];

function parseBulk(text: string): Bulk | undefined {
  for (const [re, make] of BULK_RULES) {
    const m = re.exec(text);
    if (m) return { ...make(m), rest: m.groups?.['rest'] ?? '' };
  }
  return undefined;
}

const MAC_NAMES: Readonly<Record<string, string>> = { SHA: 'SHA1', IMIT: 'GOST28147-IMIT' };

// Weak classes in the order CipherWeakness lists them, so every suite reports them in one order.
const WEAKNESS_ORDER: readonly CipherWeakness[] = [
  'NULL',
  'anon',
  'EXPORT',
  'DES',
  'RC4',
  '3DES',
  'IDEA',
  'RC2',
  'MD5',
  'CBC',
  'static-RSA',
  'static-DH',
];

function weaknesses(...lists: (readonly CipherWeakness[])[]): CipherWeakness[] {
  const all = new Set(lists.flat());
  return WEAKNESS_ORDER.filter((w) => all.has(w));
}

function combine(k: KeyExchange, bulk: Bulk, mac: string): SuiteProperties {
  return {
    kx: k.kx,
    auth: k.auth,
    encryption: bulk.encryption,
    bits: bulk.bits,
    mac: bulk.aead ? 'AEAD' : mac,
    aead: bulk.aead,
    forwardSecrecy: k.fs,
    weaknesses: weaknesses(k.weak, bulk.weak, mac === 'MD5' ? ['MD5'] : []),
  };
}

function macName(rest: string): string {
  const base = rest.replace(/_OLD$/, '').replace(/_\d$/, '');
  return MAC_NAMES[base] ?? (base || 'AEAD');
}

/**
 * Derives a suite's properties from its IANA name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
 * "TLS_AES_128_GCM_SHA256", "SSL_CK_RC4_128_WITH_MD5"); undefined for a name it cannot read.
 */
export function parseSuiteName(name: string): SuiteProperties | undefined {
  if (name.startsWith('SSL_CK_')) return parseSsl2Kind(name.slice(7));
  const m = /^(?:TLS|SSL)_(?:(.+?)_WITH_)?(.+)$/.exec(name);
  if (!m) return undefined;
  const bulk = parseBulk(m[2] ?? '');
  if (!bulk) return undefined;
  const tls13 = m[1] === undefined || bulk.tls13 === true;
  const k = tls13 ? TLS13_KEY_EXCHANGE : KEY_EXCHANGES[m[1] ?? ''];
  if (!k) return undefined;
  return combine(k, bulk, macName(bulk.rest));
}

/** True for a name of a TLS 1.3 suite (no key exchange in the name, or a TLS 1.3-only cipher). */
export function isTls13SuiteName(name: string): boolean {
  const m = /^TLS_(?:(.+?)_WITH_)?(.+)$/.exec(name);
  if (!m) return false;
  return m[1] === undefined || parseBulk(m[2] ?? '')?.tls13 === true;
}

// SSLv2 kinds: "RC4_128_EXPORT40_WITH_MD5", "DES_192_EDE3_CBC_WITH_SHA", "NULL". Export kinds keep 40 bits.
const SSL2_RULES: readonly (readonly [RegExp, (m: RegExpExecArray, bits?: number) => Omit<Bulk, 'rest'>])[] =
  [
    [/^NULL$/, () => ({ encryption: 'NULL', bits: 0, aead: false, weak: ['NULL'] })],
    [
      /^RC4_(\d+)$/,
      (m, bits = Number(m[1])) => ({ encryption: `RC4-${bits}`, bits, aead: false, weak: ['RC4'] }),
    ],
    [/^RC2_(\d+)_CBC$/, (m, bits = Number(m[1])) => cbc(`RC2-CBC-${bits}`, bits, 'RC2')],
    [/^IDEA_128_CBC$/, () => cbc('IDEA-CBC', 128, 'IDEA')],
    [/^DES_64_CBC$/, () => cbc('DES-CBC', 56, 'DES')],
    [/^DES_64_CFB64$/, () => ({ encryption: 'DES-CFB64', bits: 56, aead: false, weak: ['DES'] })],
    [/^DES_192_EDE3_CBC$/, () => cbc('3DES-EDE-CBC', 112, '3DES')],
  ];

function parseSsl2Kind(text: string): SuiteProperties | undefined {
  const m = /^(.+?)(?:_WITH_(MD5|SHA)(?:_\d)?)?$/.exec(text);
  const cipher = m?.[1] ?? '';
  const mac = m?.[2] === 'SHA' ? 'SHA1' : (m?.[2] ?? 'NULL');
  const exported = cipher.endsWith('_EXPORT40');
  const base = cipher.replace(/_EXPORT40$/, '');
  for (const [re, make] of SSL2_RULES) {
    const c = re.exec(base);
    if (!c) continue;
    const k = kex('RSA', 'RSA', false, 'static-RSA', ...(exported ? ['EXPORT' as const] : []));
    return combine(k, { ...make(c, exported ? 40 : undefined), rest: '' }, mac);
  }
  return undefined;
}

function loadTable(table: string, width: number): CipherSuiteInfo[] {
  const suites: CipherSuiteInfo[] = [];
  for (const line of table.split('\n')) {
    const [code, name, openssl, parseAs] = line.trim().split(/\s+/);
    if (!code || !name) continue;
    const properties = parseSuiteName(parseAs ?? name);
    if (code.length !== width || !properties) {
      throw new InputError('ECONFIG', `cipher-suite table: cannot read "${line.trim()}"`);
    }
    suites.push({ name, ...(openssl && openssl !== '-' ? { openssl } : {}), code, ...properties });
  }
  return suites;
}

const ALL_SUITES: readonly CipherSuiteInfo[] = Object.freeze(loadTable(SUITE_TABLE, 4));
const BY_CODE = new Map(ALL_SUITES.map((s) => [Number.parseInt(s.code, 16), s]));
const BY_NAME = new Map<string, CipherSuiteInfo>();
for (const s of ALL_SUITES) if (!BY_NAME.has(s.name)) BY_NAME.set(s.name, s);

// How bad each weak class is, for ordering suites strongest first.
const WEAKNESS_COST: Readonly<Record<CipherWeakness, number>> = {
  NULL: 1000,
  anon: 1000,
  EXPORT: 800,
  DES: 400,
  RC4: 400,
  RC2: 400,
  MD5: 200,
  '3DES': 150,
  IDEA: 100,
  'static-RSA': 40,
  'static-DH': 40,
  CBC: 20,
};
const KX_RANK = ['ECDHE', 'any', 'DHE', 'ECDHE-PSK', 'DHE-PSK', 'ECDH', 'DH', 'RSA'];
const AUTH_RANK = ['ECDSA', 'RSA', 'DSS'];

function rank(list: readonly string[], value: string): number {
  const i = list.indexOf(value);
  return i < 0 ? list.length : i;
}

/** Orders suites the way a careful client would offer them: strongest first. */
export function compareStrength(a: CipherSuiteInfo, b: CipherSuiteInfo): number {
  const cost = (s: CipherSuiteInfo) =>
    s.weaknesses.reduce((sum, w) => sum + WEAKNESS_COST[w], 0) -
    (s.forwardSecrecy ? 100 : 0) -
    (s.aead ? 50 : 0);
  return (
    cost(a) - cost(b) ||
    rank(KX_RANK, a.kx) - rank(KX_RANK, b.kx) ||
    b.bits - a.bits ||
    rank(AUTH_RANK, a.auth) - rank(AUTH_RANK, b.auth) ||
    Number.parseInt(a.code, 16) - Number.parseInt(b.code, 16)
  );
}

/** Every suite for TLS 1.3 (0x1301–0x1307 and the other TLS 1.3-only codes), strongest first. */
export const TLS13_SUITES: readonly CipherSuiteInfo[] = Object.freeze(
  ALL_SUITES.filter((s) => isTls13SuiteName(s.name)).sort(compareStrength),
);

/** Every suite for SSLv3 … TLS 1.2, strongest first (the order in which the scanner offers them). */
export const LEGACY_SUITES: readonly CipherSuiteInfo[] = Object.freeze(
  ALL_SUITES.filter((s) => !isTls13SuiteName(s.name)).sort(compareStrength),
);

/** The SSLv2 cipher kinds (6-hex-digit codes). */
export const SSL2_CIPHER_KINDS: readonly CipherSuiteInfo[] = Object.freeze(loadTable(SSL2_KIND_TABLE, 6));
const SSL2_BY_CODE = new Map(SSL2_CIPHER_KINDS.map((s) => [Number.parseInt(s.code, 16), s]));

/** The numeric code of a suite (two bytes; three for SSLv2 kinds). */
export function suiteCode(suite: CipherSuiteInfo): number {
  return Number.parseInt(suite.code, 16);
}

/**
 * The suite with this two-byte code. An unassigned code still gets an entry, named "UNKNOWN_0x1234",
 * so a server that picks something odd is reported rather than dropped.
 */
export function suiteByCode(code: number): CipherSuiteInfo {
  return BY_CODE.get(code) ?? unknownSuite(code.toString(16).padStart(4, '0'));
}

/** The SSLv2 cipher kind with this three-byte code (an "UNKNOWN_…" entry when unassigned). */
export function ssl2KindByCode(code: number): CipherSuiteInfo {
  return SSL2_BY_CODE.get(code) ?? unknownSuite(code.toString(16).padStart(6, '0'));
}

/** Looks a suite up by IANA name, e.g. `suiteByName('TLS_RSA_WITH_AES_128_CBC_SHA')?.code === '002f'`. */
export function suiteByName(name: string): CipherSuiteInfo | undefined {
  return BY_NAME.get(name);
}

function unknownSuite(code: string): CipherSuiteInfo {
  return {
    name: `UNKNOWN_0x${code}`,
    code,
    kx: 'unknown',
    auth: 'unknown',
    encryption: 'unknown',
    bits: 0,
    mac: 'unknown',
    aead: false,
    forwardSecrecy: false,
    weaknesses: [],
  };
}
