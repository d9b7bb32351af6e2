/**
 * The four SCRAM messages (RFC 5802 §7) as typed values: encoders and strict parsers for both directions, so the
 * client half here and a future server half agree on one grammar. Parsers throw AuthError 'EAUTH_PROTOCOL'.
 */
import { AuthError } from '../core/errors.js';
import { decodeSaslname, encodeSaslname, type Gs2Header, parseGs2Header } from './gs2.js';

/** One `name=value` attribute, in message order (attr-val = ALPHA "=" value). */
export type ScramAttribute = readonly [name: string, value: string];

export interface ClientFirstMessage {
  readonly gs2Header: Gs2Header;
  /** The header exactly as sent; it goes into the channel-binding check of client-final. */
  readonly gs2HeaderRaw: string;
  /** client-first-message-bare, the first part of AuthMessage. */
  readonly bare: string;
  readonly username: string;
  readonly nonce: string;
  readonly extensions: readonly ScramAttribute[];
}

export interface ServerFirstMessage {
  readonly nonce: string;
  readonly salt: Buffer;
  readonly iterations: number;
  readonly extensions: readonly ScramAttribute[];
}

export interface ClientFinalMessage {
  /** The decoded c= value: GS2 header followed by the channel-binding data, if any. */
  readonly channelBinding: Buffer;
  readonly nonce: string;
  readonly proof: Buffer;
  /** client-final-message-without-proof, the last part of AuthMessage. */
  readonly withoutProof: string;
  readonly extensions: readonly ScramAttribute[];
}

export type ServerFinalMessage =
  | { readonly kind: 'verifier'; readonly signature: Buffer }
  | { readonly kind: 'error'; readonly error: string };

/** printable = %x21-2B / %x2D-7E: any visible ASCII but ",". */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** posit-number; ten digits are enough for any count a client would accept. */
const ITERATIONS = /^[1-9][0-9]{0,9}$/;

export function isValidNonce(nonce: string): boolean {
  return NONCE.test(nonce);
}

/** Splits a SCRAM message into its attributes; values may contain "=" (base64 padding) but never ",". */
export function parseScramAttributes(message: string): ScramAttribute[] {
  return message.split(',').map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw malformed('an attribute is not of the form "x=value"');
    return [part[0]!, part.slice(2)] as const;
  });
}

/** @example encodeClientFirstBare('user', 'rOprNGfwEbeRWgbNEkqO') === 'n=user,r=rOprNGfwEbeRWgbNEkqO' */
export function encodeClientFirstBare(preparedUsername: string, nonce: string): string {
  return `n=${encodeSaslname(preparedUsername)},r=${nonce}`;
}

export function parseClientFirst(message: string): ClientFirstMessage {
  const { header, raw, rest } = parseGs2Header(message);
  const attributes = parseScramAttributes(rest);
  rejectMandatoryExtension(attributes);
  const username = decodeSaslname(expectAttribute(attributes, 0, 'n', 'the user name'));
  const nonce = expectNonce(expectAttribute(attributes, 1, 'r', 'the nonce'));
  return {
    gs2Header: header,
    gs2HeaderRaw: raw,
    bare: rest,
    username,
    nonce,
    extensions: attributes.slice(2),
  };
}

export function encodeServerFirst(message: Omit<ServerFirstMessage, 'extensions'>): string {
  return `r=${message.nonce},s=${message.salt.toString('base64')},i=${message.iterations}`;
}

export function parseServerFirst(message: string): ServerFirstMessage {
  const attributes = parseScramAttributes(message);
  rejectMandatoryExtension(attributes);
  const nonce = expectNonce(expectAttribute(attributes, 0, 'r', 'the nonce'));
  const salt = decodeBase64(expectAttribute(attributes, 1, 's', 'the salt'), 'the salt');
  if (salt.length === 0) throw malformed('the salt is empty');
  const iterations = expectAttribute(attributes, 2, 'i', 'the iteration count');
  if (!ITERATIONS.test(iterations)) throw malformed('the iteration count is not a positive number');
  return { nonce, salt, iterations: Number(iterations), extensions: attributes.slice(3) };
}

/** c= carries base64(gs2-header + channel-binding data), so the server sees what the client bound to. */
export function encodeClientFinalWithoutProof(
  gs2Header: string,
  bindingData: Buffer | undefined,
  nonce: string,
): string {
  const cbindInput = Buffer.concat([Buffer.from(gs2Header, 'utf8'), bindingData ?? Buffer.alloc(0)]);
  return `c=${cbindInput.toString('base64')},r=${nonce}`;
}

export function encodeClientFinal(withoutProof: string, proof: Buffer): string {
  return `${withoutProof},p=${proof.toString('base64')}`;
}

export function parseClientFinal(message: string): ClientFinalMessage {
  const attributes = parseScramAttributes(message);
  const channelBinding = decodeBase64(expectAttribute(attributes, 0, 'c', 'the channel binding'), 'c=');
  const nonce = expectNonce(expectAttribute(attributes, 1, 'r', 'the nonce'));
  const last = attributes.length - 1;
  if (last < 2) throw malformed('the client proof ("p=") is missing');
  const proof = decodeBase64(expectAttribute(attributes, last, 'p', 'the client proof'), 'the client proof');
  return {
    channelBinding,
    nonce,
    proof,
    withoutProof: message.slice(0, message.lastIndexOf(',p=')),
    extensions: attributes.slice(2, last),
  };
}

export function encodeServerFinal(message: ServerFinalMessage): string {
  return message.kind === 'error' ? `e=${message.error}` : `v=${message.signature.toString('base64')}`;
}

export function parseServerFinal(message: string): ServerFinalMessage {
  const [first] = parseScramAttributes(message);
  if (first?.[0] === 'e' && first[1] !== '') return { kind: 'error', error: first[1] };
  if (first?.[0] === 'v')
    return { kind: 'verifier', signature: decodeBase64(first[1], 'the server signature') };
  throw malformed('server-final has neither "v=" nor "e="');
}

function expectAttribute(
  attributes: readonly ScramAttribute[],
  index: number,
  name: string,
  what: string,
): string {
  const attribute = attributes[index];
  if (attribute?.[0] !== name) throw malformed(`${what} ("${name}=") is missing or out of order`);
  return attribute[1];
}

function expectNonce(nonce: string): string {
  if (!NONCE.test(nonce)) throw malformed('the nonce is empty or has characters outside printable ASCII');
  return nonce;
}

/** m= announces an extension the receiver must understand; nobody defines one, so it must fail (RFC 5802 §5.1). */
function rejectMandatoryExtension(attributes: readonly ScramAttribute[]): void {
  if (attributes[0]?.[0] === 'm') {
    throw new AuthError('EAUTH_PROTOCOL', 'the peer requires a SCRAM extension ("m=") that is not supported');
  }
}

function decodeBase64(value: string, what: string): Buffer {
  if (!BASE64.test(value)) throw malformed(`${what} is not valid base64`);
  const bytes = Buffer.from(value, 'base64');
  // Only the canonical spelling: unused low bits before "=" must be zero, or two texts would carry one proof.
  if (bytes.toString('base64') !== value) throw malformed(`${what} is not canonical base64`);
  return bytes;
}

function malformed(what: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `malformed SCRAM message: ${what}`);
}
