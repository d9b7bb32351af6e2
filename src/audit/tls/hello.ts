/**
 * ClientHello records built by hand, as testssl.sh's socket mode does: any version from SSLv2 to TLS 1.3 and
 * any list of cipher-suite codes, including those no TLS library will offer any more. Only the first flight
 * is ever sent; the scanner reads the server's answer and hangs up.
 */
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { InputError } from '../../core/errors.js';
import { isIpLiteral } from '../../tls/index.js';
import type { ProtocolName } from '../types.js';

/** Protocols that use the TLS record format (everything but SSLv2). */
export type TlsVersionName = Exclude<ProtocolName, 'SSLv2'>;

/** Wire versions. */
export const VERSION_CODES: Readonly<Record<TlsVersionName, number>> = {
  SSLv3: 0x0300,
  'TLSv1.0': 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};

/** The protocol name of a wire version, or undefined. */
export function versionName(code: number): TlsVersionName | undefined {
  for (const [name, value] of Object.entries(VERSION_CODES))
    if (value === code) return name as TlsVersionName;
  return undefined;
}

/** Signalling cipher suite values (RFC 5746, RFC 7507): listed with the suites, never chosen. */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
export const FALLBACK_SCSV = 0x5600;

/** Named groups (IANA "TLS Supported Groups"). */
export const NAMED_GROUPS: Readonly<Record<string, number>> = {
  sect163k1: 1,
  sect163r2: 3,
  sect233k1: 6,
  sect233r1: 7,
  sect283k1: 9,
  sect283r1: 10,
  sect409k1: 11,
  sect409r1: 12,
  sect571k1: 13,
  sect571r1: 14,
  secp192r1: 19,
  secp224r1: 21,
  secp256k1: 22,
  secp256r1: 23,
  secp384r1: 24,
  secp521r1: 25,
  brainpoolP256r1: 26,
  brainpoolP384r1: 27,
  brainpoolP512r1: 28,
  x25519: 29,
  x448: 30,
  ffdhe2048: 256,
  ffdhe3072: 257,
  ffdhe4096: 258,
  ffdhe6144: 259,
  ffdhe8192: 260,
};

const EC_GROUPS = [
  'x25519',
  'secp256r1',
  'x448',
  'secp521r1',
  'secp384r1',
  'brainpoolP512r1',
  'brainpoolP384r1',
  'brainpoolP256r1',
  'secp256k1',
  'secp224r1',
  'secp192r1',
  'sect571r1',
  'sect571k1',
  'sect409k1',
  'sect409r1',
  'sect283k1',
  'sect283r1',
  'sect233k1',
  'sect233r1',
  'sect163k1',
  'sect163r2',
].map((n) => NAMED_GROUPS[n] as number);
const FFDHE_GROUPS = [256, 257, 258, 259, 260];

/**
 * Groups offered by default: every elliptic curve for TLS ≤ 1.2 (no FFDHE, so that a server shows its own
 * DH parameters rather than an RFC 7919 group), curves and FFDHE groups for TLS 1.3.
 */
export const DEFAULT_LEGACY_GROUPS: readonly number[] = EC_GROUPS;
export const DEFAULT_TLS13_GROUPS: readonly number[] = [...EC_GROUPS.slice(0, 5), ...FFDHE_GROUPS];

// ECDSA, EdDSA, RSA-PSS, RSA PKCS#1 and DSA with every hash, strongest first, so that no certificate is ruled out.
const SIGNATURE_ALGORITHMS = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501,
  0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202, 0x0101, 0x0102,
];

const EXT = {
  serverName: 0,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  padding: 21,
  supportedVersions: 43,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  renegotiationInfo: 0xff01,
} as const;

/** Handshake messages longer than this go into more than one record (RFC 8446 §5.1). */
const MAX_RECORD_PAYLOAD = 16_384;

/** At most this many suites per hello keeps every hello at 512 bytes or a little more (see the padding). */
export const MAX_SUITES_PER_HELLO = 128;

/** A TLS 1.3 key share: group and public value. */
export interface KeyShare {
  readonly group: number;
  readonly publicKey: Uint8Array;
}

export interface ClientHelloOptions {
  readonly version: TlsVersionName;
  /** Cipher-suite codes in order of preference. */
  readonly suites: readonly number[];
  /** SNI host name; IP literals are left out (RFC 6066 §3). */
  readonly servername?: string | undefined;
  /** supported_groups; default DEFAULT_LEGACY_GROUPS, or DEFAULT_TLS13_GROUPS for TLS 1.3. */
  readonly groups?: readonly number[] | undefined;
  /** TLS 1.3 key shares; default one real X25519 share (when x25519 is among the groups). */
  readonly keyShares?: readonly KeyShare[] | undefined;
  /** Offer DEFLATE before null compression (CRIME test). */
  readonly compression?: boolean | undefined;
  /** Append TLS_FALLBACK_SCSV (RFC 7507). */
  readonly fallbackScsv?: boolean | undefined;
  /** Secure renegotiation signal: default the empty extension, or the SCSV for SSLv3 (which has no extensions). */
  readonly renegotiation?: 'extension' | 'scsv' | 'none' | undefined;
  /** Fixed client random, for tests. */
  readonly random?: Uint8Array | undefined;
}

/** A fresh key share for `group` made by node:crypto, or undefined for groups it cannot make here (FFDHE). */
export function makeKeyShare(group: number): KeyShare | undefined {
  if (group === 29 || group === 30) {
    const pair = group === 29 ? generateKeyPairSync('x25519') : generateKeyPairSync('x448');
    const jwk = pair.publicKey.export({ format: 'jwk' });
    return { group, publicKey: Buffer.from(jwk.x ?? '', 'base64url') };
  }
  const curve = EC_KEY_SHARE_CURVES.get(group);
  return curve ? { group, publicKey: createECDH(curve).generateKeys() } : undefined;
}

const EC_KEY_SHARE_CURVES = new Map([
  [23, 'prime256v1'],
  [24, 'secp384r1'],
  [25, 'secp521r1'],
]);

class Writer {
  readonly #parts: Buffer[] = [];
  #length = 0;

  u8(v: number): this {
    return this.bytes(Buffer.of(v & 0xff));
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v & 0xffff);
    return this.bytes(b);
  }

  bytes(b: Uint8Array): this {
    this.#parts.push(Buffer.from(b));
    this.#length += b.length;
    return this;
  }

  /** Writes `body` behind a length prefix of `size` bytes (1, 2 or 3). */
  vector(size: 1 | 2 | 3, body: Uint8Array): this {
    const max = 2 ** (8 * size) - 1;
    if (body.length > max)
      throw new InputError('EINVALID_ARGUMENT', `TLS vector too long: ${body.length} > ${max}`);
    const len = Buffer.alloc(size);
    len.writeUIntBE(body.length, 0, size);
    return this.bytes(len).bytes(body);
  }

  get length(): number {
    return this.#length;
  }

  done(): Buffer {
    return Buffer.concat(this.#parts, this.#length);
  }
}

const u16List = (values: readonly number[]): Buffer => {
  const w = new Writer();
  for (const v of values) w.u16(v);
  return w.done();
};

function extension(type: number, body: Uint8Array): Buffer {
  return new Writer().u16(type).vector(2, body).done();
}

function serverNameExtension(name: string): Buffer {
  const entry = new Writer().u8(0).vector(2, Buffer.from(name, 'ascii')).done();
  return extension(EXT.serverName, new Writer().vector(2, entry).done());
}

function keyShareExtension(shares: readonly KeyShare[]): Buffer {
  const list = new Writer();
  for (const s of shares) list.u16(s.group).vector(2, s.publicKey);
  return extension(EXT.keyShare, new Writer().vector(2, list.done()).done());
}

function extensionsFor(o: ClientHelloOptions, tls13: boolean): Buffer[] {
  const exts: Buffer[] = [];
  const sni = o.servername;
  if (sni && !isIpLiteral(sni)) exts.push(serverNameExtension(sni.replace(/\.$/, '')));
  const groups = o.groups ?? (tls13 ? DEFAULT_TLS13_GROUPS : DEFAULT_LEGACY_GROUPS);
  exts.push(extension(EXT.supportedGroups, new Writer().vector(2, u16List(groups)).done()));
  exts.push(extension(EXT.ecPointFormats, new Writer().vector(1, Buffer.of(0)).done()));
  if (o.version === 'TLSv1.2' || tls13) {
    exts.push(
      extension(EXT.signatureAlgorithms, new Writer().vector(2, u16List(SIGNATURE_ALGORITHMS)).done()),
    );
  }
  if (tls13) {
    exts.push(
      extension(EXT.supportedVersions, new Writer().vector(1, u16List([VERSION_CODES['TLSv1.3']])).done()),
    );
    exts.push(extension(EXT.pskKeyExchangeModes, new Writer().vector(1, Buffer.of(1)).done()));
    const shares = o.keyShares ?? (groups.includes(29) ? [makeKeyShare(29) as KeyShare] : []);
    exts.push(keyShareExtension(shares));
  } else if ((o.renegotiation ?? 'extension') === 'extension') {
    exts.push(extension(EXT.renegotiationInfo, Buffer.of(0)));
  }
  return exts;
}

/**
 * One ClientHello as TLS records (the handshake message split over records only when above 16 KiB).
 * TLS 1.3 hellos carry supported_versions with TLS 1.3 alone; older versions carry none, so the server's
 * answer says whether it speaks exactly that version.
 *
 * @example
 * socket.write(buildClientHello({ version: 'TLSv1.2', suites: [0xc02f, 0x002f], servername: 'mx.example' }));
 */
export function buildClientHello(o: ClientHelloOptions): Buffer {
  if (o.suites.length === 0)
    throw new InputError('EINVALID_ARGUMENT', 'a ClientHello needs at least one suite');
  const tls13 = o.version === 'TLSv1.3';
  const legacy = o.version === 'SSLv3';
  const renegotiation = o.renegotiation ?? (legacy ? 'scsv' : 'extension');
  const suites = [...o.suites];
  if (renegotiation === 'scsv') suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
  if (o.fallbackScsv) suites.push(FALLBACK_SCSV);

  const body = new Writer()
    .u16(tls13 ? VERSION_CODES['TLSv1.2'] : VERSION_CODES[o.version])
    .bytes(o.random ?? randomBytes(32))
    // TLS 1.3 middlebox compatibility mode sends a 32-byte legacy session id.
    .vector(1, tls13 ? randomBytes(32) : Buffer.alloc(0))
    .vector(2, u16List(suites))
    .vector(1, o.compression ? Buffer.of(1, 0) : Buffer.of(0));
  if (!legacy) {
    const exts = extensionsFor({ ...o, renegotiation }, tls13);
    let total = exts.reduce((n, e) => n + e.length, 0);
    // Some servers (F5 among them) hang on hellos of 256–511 bytes; RFC 7685 padding lifts them to 512.
    const messageLength = 4 + body.length + 2 + total;
    if (messageLength >= 256 && messageLength < 512) {
      const pad = Math.max(0, 512 - messageLength - 4);
      exts.push(extension(EXT.padding, Buffer.alloc(pad)));
      total += 4 + pad;
    }
    body.vector(2, Buffer.concat(exts, total));
  }
  const handshake = new Writer().u8(1).vector(3, body.done()).done();
  // Record version TLS 1.0 for every TLS hello: the most widely accepted value (RFC 8446 §5.1 allows it).
  const recordVersion = legacy ? VERSION_CODES.SSLv3 : VERSION_CODES['TLSv1.0'];
  const records = new Writer();
  for (let i = 0; i < handshake.length; i += MAX_RECORD_PAYLOAD) {
    records
      .u8(22)
      .u16(recordVersion)
      .vector(2, handshake.subarray(i, i + MAX_RECORD_PAYLOAD));
  }
  return records.done();
}

/**
 * An SSLv2 CLIENT-HELLO (2-byte record header, version 0x0002) offering the given 3-byte cipher kinds.
 */
export function buildSslv2ClientHello(kinds: readonly number[], challenge?: Uint8Array): Buffer {
  if (kinds.length === 0)
    throw new InputError('EINVALID_ARGUMENT', 'an SSLv2 hello needs at least one cipher kind');
  const specs = Buffer.alloc(kinds.length * 3);
  kinds.forEach((k, i) => {
    specs.writeUIntBE(k, i * 3, 3);
  });
  const nonce = challenge ?? randomBytes(16);
  const body = new Writer()
    .u8(1) // CLIENT-HELLO
    .u16(0x0002)
    .u16(specs.length)
    .u16(0) // session id length
    .u16(nonce.length)
    .bytes(specs)
    .bytes(nonce)
    .done();
  if (body.length > 0x7fff) throw new InputError('EINVALID_ARGUMENT', 'SSLv2 hello too long');
  return Buffer.concat([Buffer.of(0x80 | (body.length >> 8), body.length & 0xff), body]);
}

/** Splits `suites` into hellos of at most `size` suites each, keeping their order. */
export function batches<T>(suites: readonly T[], size = MAX_SUITES_PER_HELLO): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < suites.length; i += size) out.push(suites.slice(i, i + size));
  return out;
}
