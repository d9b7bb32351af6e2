/**
 * Reading the server's first flight after a hand-built ClientHello: TLS records are collected until the
 * ServerHello (and, when asked, Certificate / ServerKeyExchange / ServerHelloDone) or an alert, and parsed.
 * The parsers are pure (bytes in, values out); readServerReply() adds the socket, a byte bound and a timeout.
 * Malformed input throws TlsError 'ETLS_HANDSHAKE' ('ETLS_PLAINTEXT_PORT' when the answer is plaintext); a
 * silent server TimeoutError 'ETIMEOUT'.
 */
import type { Socket } from 'node:net';
import { PosternError, TimeoutError, TlsError } from '../../core/errors.js';

/** Alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 7507). */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

// SHA-256("HelloRetryRequest"): the random of a ServerHello that is really a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** Largest record we accept (2^14 plus the expansion RFC 5246 allows). */
const MAX_RECORD = 16_384 + 2_048;
/** Bound on everything read for one flight (certificate chains included). */
export const MAX_FLIGHT_BYTES = 256 * 1024;

export interface ServerHello {
  /** The negotiated version: supported_versions when present, else the legacy version field. */
  readonly version: number;
  readonly legacyVersion: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuite: number;
  readonly compression: number;
  readonly extensions: readonly { readonly type: number; readonly data: Buffer }[];
  /** A HelloRetryRequest (TLS 1.3): the server wants another key share. */
  readonly helloRetryRequest: boolean;
  /** TLS 1.3: the group of the server's key share, or the group a HelloRetryRequest asks for. */
  readonly selectedGroup?: number | undefined;
  /** The renegotiation_info extension is present (RFC 5746). */
  readonly secureRenegotiation: boolean;
}

export type ServerReply =
  | {
      readonly kind: 'hello';
      readonly hello: ServerHello;
      readonly certificate: boolean;
      readonly serverKeyExchange?: Buffer | undefined;
      /** ServerHelloDone arrived (TLS ≤ 1.2 with until: 'done'). */
      readonly done: boolean;
    }
  | { readonly kind: 'alert'; readonly level: number; readonly description: number; readonly name: string }
  /** The server closed or reset the connection before sending anything. */
  | { readonly kind: 'closed' };

function malformed(what: string, hint?: string): TlsError {
  return new TlsError('ETLS_HANDSHAKE', `malformed server reply: ${what}`, { phase: 'tls', hint });
}

/** A bounds-checked cursor over a byte buffer; every overrun is a malformed-reply error. */
class Reader {
  #pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.#pos;
  }

  take(n: number): Buffer {
    if (n > this.remaining) throw malformed(`${this.what} truncated`);
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  u8(): number {
    return this.take(1).readUInt8(0);
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  vector(size: 1 | 2 | 3): Buffer {
    return this.take(this.take(size).readUIntBE(0, size));
  }
}

/** Parses the body of a ServerHello handshake message (type 2, without its 4-byte header). */
export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.take(32);
  const sessionId = r.vector(1);
  if (sessionId.length > 32) throw malformed('ServerHello session id longer than 32 bytes');
  const cipherSuite = r.u16();
  const compression = r.u8();
  const extensions: { type: number; data: Buffer }[] = [];
  if (r.remaining > 0) {
    const ext = new Reader(r.vector(2), 'ServerHello extensions');
    while (ext.remaining > 0) extensions.push({ type: ext.u16(), data: ext.vector(2) });
  }
  if (r.remaining > 0) throw malformed('trailing bytes after the ServerHello');
  const helloRetryRequest = random.equals(HRR_RANDOM);
  let version = legacyVersion;
  let selectedGroup: number | undefined;
  for (const { type, data } of extensions) {
    if (type === 43) version = new Reader(data, 'supported_versions').u16();
    if (type === 51) selectedGroup = new Reader(data, 'key_share').u16();
  }
  return {
    version,
    legacyVersion,
    random,
    sessionId,
    cipherSuite,
    compression,
    extensions,
    helloRetryRequest,
    selectedGroup,
    secureRenegotiation: extensions.some((e) => e.type === 0xff01),
  };
}

export interface KeyExchangeParams {
  /** Named group of an ECDHE exchange. */
  readonly group?: number | undefined;
  /** Size of the DH prime of a DHE exchange, in bits. */
  readonly dhBits?: number | undefined;
}

/**
 * Reads the group or the DH prime size out of a ServerKeyExchange body, given the suite's key exchange
 * ("ECDHE", "DHE", "ECDHE-PSK", "DHE-PSK"). Returns {} for exchanges it does not read (RSA export, SRP, …).
 */
export function parseServerKeyExchange(body: Buffer, kx: string): KeyExchangeParams {
  const r = new Reader(body, 'ServerKeyExchange');
  if (kx.endsWith('-PSK')) r.vector(2); // psk_identity_hint
  if (kx === 'ECDHE' || kx === 'ECDHE-PSK') {
    const curveType = r.u8();
    return curveType === 3 ? { group: r.u16() } : {};
  }
  if (kx === 'DHE' || kx === 'DHE-PSK') {
    const p = r.vector(2);
    let i = 0;
    while (i < p.length && p[i] === 0) i++;
    if (i === p.length) throw malformed('ServerKeyExchange with a zero DH prime');
    return { dhBits: (p.length - i - 1) * 8 + (32 - Math.clz32(p[i] as number)) };
  }
  return {};
}

/** Incremental parser: feed bytes as they arrive; a result comes back once the flight says enough. */
export interface ReplyParser<T> {
  /** Returns the result when complete, else undefined. Throws on malformed input. */
  feed(chunk: Buffer): T | undefined;
  /** The peer closed: the result for what arrived so far, or a thrown error when it is unusable. */
  end(): T;
}

/**
 * The error for bytes that are not what was expected: ETLS_PLAINTEXT_PORT when they read as text (an SMTP
 * greeting or reply, usually: a STARTTLS port spoken to as implicit TLS), else ETLS_HANDSHAKE.
 */
function notA(what: string, bytes: Buffer): TlsError {
  const hint = 'is this port speaking TLS here?';
  const text = bytes.subarray(0, 60).toString('latin1');
  if (!/^[\x20-\x7e\r\n\t]+$/.test(text))
    return malformed(`not ${what}: bytes ${bytes.subarray(0, 8).toString('hex')}`, hint);
  const line = text.replace(/\r?\n.*$/s, '');
  return new TlsError('ETLS_PLAINTEXT_PORT', `malformed server reply: not ${what}: plaintext "${line}"`, {
    phase: 'tls',
    hint,
  });
}

/**
 * The TLS flight parser. `until: 'hello'` stops at the ServerHello; 'done' reads on to ServerHelloDone
 * (TLS ≤ 1.2) to see the Certificate and ServerKeyExchange. A TLS 1.3 ServerHello or HelloRetryRequest always
 * ends the flight (what follows is encrypted).
 */
export class FlightParser implements ReplyParser<ServerReply> {
  #buf = Buffer.alloc(0);
  #handshake = Buffer.alloc(0);
  #total = 0;
  #hello: ServerHello | undefined;
  #certificate = false;
  #serverKeyExchange: Buffer | undefined;

  constructor(readonly until: 'hello' | 'done' = 'hello') {}

  feed(chunk: Buffer): ServerReply | undefined {
    this.#total += chunk.length;
    if (this.#total > MAX_FLIGHT_BYTES)
      throw malformed(`server flight larger than ${MAX_FLIGHT_BYTES} bytes`);
    this.#buf = Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 5) {
      const type = this.#buf[0] as number;
      const major = this.#buf[1] as number;
      const length = this.#buf.readUInt16BE(3);
      if (type < 20 || type > 23 || major !== 3) {
        throw notA('a TLS record', this.#buf);
      }
      if (length > MAX_RECORD) throw malformed(`record of ${length} bytes`);
      if (this.#buf.length < 5 + length) return undefined;
      const fragment = this.#buf.subarray(5, 5 + length);
      this.#buf = this.#buf.subarray(5 + length);
      const result = this.#record(type, fragment);
      if (result) return result;
    }
    return undefined;
  }

  end(): ServerReply {
    if (this.#hello) return this.#helloReply(false);
    if (this.#total === 0) return { kind: 'closed' };
    throw malformed('connection closed in the middle of the server flight');
  }

  #helloReply(done: boolean): ServerReply {
    return {
      kind: 'hello',
      hello: this.#hello as ServerHello,
      certificate: this.#certificate,
      serverKeyExchange: this.#serverKeyExchange,
      done,
    };
  }

  #record(type: number, fragment: Buffer): ServerReply | undefined {
    if (type === 21) {
      if (fragment.length < 2) throw malformed('alert record shorter than 2 bytes');
      // An alert after the ServerHello still leaves us the ServerHello.
      if (this.#hello) return this.#helloReply(false);
      const description = fragment[1] as number;
      return {
        kind: 'alert',
        level: fragment[0] as number,
        description,
        name: ALERT_NAMES[description] ?? `alert_${description}`,
      };
    }
    if (type === 22) {
      this.#handshake = Buffer.concat([this.#handshake, fragment]);
      return this.#messages();
    }
    // ChangeCipherSpec (TLS 1.3 middlebox compatibility) or application data: encrypted from here on.
    if (this.#hello) return this.#helloReply(false);
    throw malformed(`record type ${type} before the ServerHello`);
  }

  #messages(): ServerReply | undefined {
    while (this.#handshake.length >= 4) {
      const msgType = this.#handshake[0] as number;
      const length = this.#handshake.readUIntBE(1, 3);
      if (length > MAX_FLIGHT_BYTES) throw malformed(`handshake message of ${length} bytes`);
      if (this.#handshake.length < 4 + length) return undefined;
      const body = this.#handshake.subarray(4, 4 + length);
      this.#handshake = this.#handshake.subarray(4 + length);
      if (!this.#hello) {
        if (msgType !== 2) throw malformed(`handshake message type ${msgType} before the ServerHello`);
        this.#hello = parseServerHello(body);
        const tls13 = this.#hello.version === 0x0304 || this.#hello.helloRetryRequest;
        if (this.until === 'hello' || tls13) return this.#helloReply(false);
        continue;
      }
      if (msgType === 11) this.#certificate = true;
      else if (msgType === 12) this.#serverKeyExchange = Buffer.from(body);
      else if (msgType === 14) return this.#helloReply(true);
    }
    return undefined;
  }
}

/** What an SSLv2 server answered. */
export type Sslv2Reply =
  | {
      readonly kind: 'sslv2-hello';
      readonly version: number;
      /** Cipher kinds the server offers (3-byte codes). */
      readonly cipherKinds: readonly number[];
      readonly certificate: Buffer;
    }
  | { readonly kind: 'sslv2-error'; readonly code: number }
  /** The server answered in TLS records: an alert, or a TLS ServerHello to our SSLv2-format hello. */
  | { readonly kind: 'tls'; readonly reply: ServerReply }
  | { readonly kind: 'closed' };

/** Parser for the answer to an SSLv2 CLIENT-HELLO. */
export class Sslv2Parser implements ReplyParser<Sslv2Reply> {
  #buf = Buffer.alloc(0);
  #tls: FlightParser | undefined;

  feed(chunk: Buffer): Sslv2Reply | undefined {
    if (this.#tls) return this.#wrap(this.#tls.feed(chunk));
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (this.#buf.length > MAX_FLIGHT_BYTES) throw malformed('SSLv2 reply too large');
    if (this.#buf.length < 2) return undefined;
    const b0 = this.#buf[0] as number;
    if (b0 >= 20 && b0 <= 23 && this.#buf[1] === 3) {
      this.#tls = new FlightParser('hello');
      const buffered = this.#buf;
      this.#buf = Buffer.alloc(0);
      return this.#wrap(this.#tls.feed(buffered));
    }
    // Two-byte header (high bit set) or three-byte header (then a padding length below 8); the first
    // message byte must be ERROR (0) or SERVER-HELLO (4). Anything else, plaintext included, is not SSLv2.
    const twoByte = (b0 & 0x80) !== 0;
    const headerLength = twoByte ? 2 : 3;
    const probe = this.#buf.subarray(0, headerLength + 1);
    const typeByte = probe[headerLength];
    const badPadding = !twoByte && probe.length > 2 && (probe[2] as number) >= 8;
    if (
      (!twoByte && (b0 & 0x40) !== 0) ||
      badPadding ||
      (typeByte !== undefined && typeByte !== 0 && typeByte !== 4)
    ) {
      throw notA('an SSLv2 record', this.#buf);
    }
    const length = ((b0 & (twoByte ? 0x7f : 0x3f)) << 8) | (this.#buf[1] as number);
    if (this.#buf.length < headerLength + length) return undefined;
    return parseSslv2Message(this.#buf.subarray(headerLength, headerLength + length));
  }

  end(): Sslv2Reply {
    if (this.#tls) return { kind: 'tls', reply: this.#tls.end() };
    if (this.#buf.length === 0) return { kind: 'closed' };
    throw malformed('connection closed in the middle of an SSLv2 record');
  }

  #wrap(reply: ServerReply | undefined): Sslv2Reply | undefined {
    return reply ? { kind: 'tls', reply } : undefined;
  }
}

/** Parses one SSLv2 message: SERVER-HELLO (4) or ERROR (0). */
export function parseSslv2Message(msg: Buffer): Sslv2Reply {
  const r = new Reader(msg, 'SSLv2 message');
  const type = r.u8();
  if (type === 0) return { kind: 'sslv2-error', code: r.u16() };
  if (type !== 4) throw malformed(`SSLv2 message type ${type} where SERVER-HELLO was expected`);
  r.u8(); // session id hit
  r.u8(); // certificate type
  const version = r.u16();
  const certLength = r.u16();
  const specsLength = r.u16();
  const connectionIdLength = r.u16();
  const certificate = r.take(certLength);
  if (specsLength % 3 !== 0) throw malformed('SSLv2 cipher-spec list not a multiple of 3 bytes');
  const specs = r.take(specsLength);
  r.take(connectionIdLength);
  const cipherKinds: number[] = [];
  for (let i = 0; i < specs.length; i += 3) cipherKinds.push(specs.readUIntBE(i, 3));
  return { kind: 'sslv2-hello', version, cipherKinds, certificate: Buffer.from(certificate) };
}

export interface ReadOptions {
  /** Milliseconds to wait for the complete answer. */
  readonly timeout: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Feeds everything `socket` receives into `parser` until it has a result, the peer closes (parser.end()),
 * the timeout passes or `signal` aborts. Never destroys the socket; the caller does.
 */
export function readReply<T>(socket: Socket, parser: ReplyParser<T>, o: ReadOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const settleWith = (produce: () => T | undefined, final: boolean) => {
      try {
        const result = produce();
        if (result !== undefined) finish(() => resolve(result));
        else if (final) finish(() => reject(malformed('no result')));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const onData = (chunk: Buffer) => settleWith(() => parser.feed(chunk), false);
    const onEnd = () => settleWith(() => parser.end(), true);
    // A reset after the hello is a refusal, just as a close is.
    const onError = () => onEnd();
    const onAbort = () =>
      finish(() =>
        reject(new PosternError('EABORTED', 'TLS scan aborted', { phase: 'tls', cause: o.signal?.reason })),
      );
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new TimeoutError('ETIMEOUT', `no complete TLS answer within ${o.timeout} ms`, { phase: 'tls' }),
          ),
        ),
      o.timeout,
    );
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    if (socket.destroyed || socket.readableEnded) onEnd();
  });
}

/** Reads the server's TLS answer to a ClientHello. */
export function readServerReply(
  socket: Socket,
  o: ReadOptions & { readonly until?: 'hello' | 'done' | undefined },
): Promise<ServerReply> {
  return readReply(socket, new FlightParser(o.until ?? 'hello'), o);
}

/** Reads the server's answer to an SSLv2 CLIENT-HELLO. */
export function readSslv2Reply(socket: Socket, o: ReadOptions): Promise<Sslv2Reply> {
  return readReply(socket, new Sslv2Parser(), o);
}
