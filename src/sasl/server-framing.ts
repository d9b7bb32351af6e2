/**
 * How SMTP carries SASL (RFC 4954 §4), for the server core: the AUTH command's optional initial response and
 * the lines that answer a 334 are base64, "=" is an empty initial response, and "*" cancels.
 */

/** What one client line means to the exchange. */
export type SaslClientLine =
  | { readonly kind: 'response'; readonly data: Buffer }
  /** "*": the client gives up; reply 501 5.7.0. */
  | { readonly kind: 'cancel' }
  /** Not base64: reply 501 5.5.2 and end the exchange. */
  | { readonly kind: 'malformed' };

/** Canonical base64 with padding; Buffer.from(…, 'base64') would silently skip anything else. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The AUTH command's second argument: undefined when there is none, "=" for an empty one.
 * @example decodeInitialResponse('=') → { kind: 'response', data: <empty> }; decodeInitialResponse(undefined) → undefined
 */
export function decodeInitialResponse(argument: string | undefined): SaslClientLine | undefined {
  if (argument === undefined) return undefined;
  if (argument === '=') return { kind: 'response', data: Buffer.alloc(0) };
  // "=" alone stands for empty, so an empty argument (or "*", which only cancels a 334) is malformed here.
  return argument === '' ? { kind: 'malformed' } : decodeBase64(argument);
}

/**
 * A line sent in answer to a 334: "*" cancels, an empty line is an empty response, anything else is base64.
 * @example decodeResponseLine('*') → { kind: 'cancel' }
 */
export function decodeResponseLine(line: string): SaslClientLine {
  return line === '*' ? { kind: 'cancel' } : decodeBase64(line);
}

/** The text after "334 ": base64 of the challenge, empty for an empty challenge. */
export function encodeChallenge(data: Buffer): string {
  return data.toString('base64');
}

function decodeBase64(text: string): SaslClientLine {
  return BASE64.test(text) ? { kind: 'response', data: Buffer.from(text, 'base64') } : { kind: 'malformed' };
}
