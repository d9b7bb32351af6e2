/**
 * The GS2 header (RFC 5801 §4) that starts SCRAM's client-first message and OAUTHBEARER's initial response,
 * and the "saslname" escaping both use for identities. Client and server halves share these.
 */
import { AuthError } from '../core/errors.js';

/**
 * The client's channel-binding answer (RFC 5802 §6): `n` it cannot bind, `y` it could but believes the server
 * cannot (so a server that can detects a stripped -PLUS offer), `p` it binds with the named type.
 */
export type Gs2ChannelBindingFlag =
  | { readonly flag: 'n' }
  | { readonly flag: 'y' }
  | { readonly flag: 'p'; readonly name: string };

export interface Gs2Header {
  readonly channelBinding: Gs2ChannelBindingFlag;
  /** Identity to act as; absent when it is the authenticated user. */
  readonly authzid?: string | undefined;
}

/** RFC 5801 §4: cb-name = 1*(ALPHA / DIGIT / "." / "-"). */
const CB_NAME = /^[A-Za-z0-9.-]+$/;

/** @example encodeGs2Header({ channelBinding: { flag: 'p', name: 'tls-exporter' } }) === 'p=tls-exporter,,' */
export function encodeGs2Header(header: Gs2Header): string {
  const { channelBinding: cb, authzid } = header;
  if (cb.flag === 'p' && !CB_NAME.test(cb.name)) {
    throw new AuthError(
      'EAUTH_PROTOCOL',
      'a channel-binding type name may hold only letters, digits, "." and "-"',
    );
  }
  const flag = cb.flag === 'p' ? `p=${cb.name}` : cb.flag;
  return `${flag},${authzid ? `a=${encodeSaslname(authzid, 'authorization identity')}` : ''},`;
}

/**
 * Splits a message into its GS2 header and the rest (for a server half).
 * @example parseGs2Header('n,,n=user,r=abc') → { header: { channelBinding: { flag: 'n' } }, raw: 'n,,', rest: 'n=user,r=abc' }
 */
export function parseGs2Header(message: string): { header: Gs2Header; raw: string; rest: string } {
  const first = message.indexOf(',');
  const second = first === -1 ? -1 : message.indexOf(',', first + 1);
  if (second === -1) throw malformed('the GS2 header is incomplete');
  const flagPart = message.slice(0, first);
  const authzPart = message.slice(first + 1, second);
  let channelBinding: Gs2ChannelBindingFlag;
  if (flagPart === 'n' || flagPart === 'y') channelBinding = { flag: flagPart };
  else if (flagPart.startsWith('p=') && CB_NAME.test(flagPart.slice(2))) {
    channelBinding = { flag: 'p', name: flagPart.slice(2) };
  } else throw malformed('the GS2 channel-binding flag is not "n", "y" or "p=<type>"');
  if (authzPart !== '' && !authzPart.startsWith('a='))
    throw malformed('the GS2 authzid must start with "a="');
  const authzid = authzPart === '' ? undefined : decodeSaslname(authzPart.slice(2));
  return {
    header: { channelBinding, authzid },
    raw: message.slice(0, second + 1),
    rest: message.slice(second + 1),
  };
}

/**
 * Escapes an identity as a saslname (RFC 5802 §7): "=" becomes "=3D" and "," becomes "=2C", because both
 * delimit attributes. NUL cannot be represented at all.
 * @example encodeSaslname('a,b=c') === 'a=2Cb=3Dc'
 */
export function encodeSaslname(value: string, what = 'user name'): string {
  if (value === '' || value.includes('\0')) {
    throw new AuthError('EAUTH_PROTOCOL', `the ${what} is empty or contains a NUL character`);
  }
  return value.replace(/[=,]/g, (char) => (char === '=' ? '=3D' : '=2C'));
}

/** Reverses encodeSaslname; any "=" not starting "=2C" or "=3D" is malformed (RFC 5802 §5.1). */
export function decodeSaslname(value: string): string {
  if (value === '' || value.includes('\0') || value.includes(',') || /=(?!2C|3D)/.test(value)) {
    throw malformed('a saslname is empty or badly escaped');
  }
  return value.replace(/=2C|=3D/g, (sequence) => (sequence === '=2C' ? ',' : '='));
}

function malformed(what: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `malformed SASL message: ${what}`);
}
