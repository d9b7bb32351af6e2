/**
 * The two OAuth 2.0 bearer-token messages: XOAUTH2 (Google's and Microsoft's documentation) and OAUTHBEARER
 * (RFC 7628 §3.1), plus the JSON error challenge both servers send when a token is rejected (RFC 7628 §3.2.2).
 * Encoders for the client half, decoders for a future server half; decoded tokens come back as Secrets.
 */
import { isUtf8 } from 'node:buffer';
import { AuthError } from '../core/errors.js';
import { revealSecret, Secret, type SecretLike } from '../core/secret.js';
import { encodeGs2Header, parseGs2Header } from './gs2.js';

/** ^A separates the key/value pairs of both formats, so no field may contain it. */
const SEP = '\x01';
/**
 * RFC 6750's b64token is stricter; any visible ASCII is allowed so that unusual but working tokens pass, while
 * what would break the framing (empty, spaces, control characters such as ^A) is refused.
 */
const TOKEN = /^[\x21-\x7e]+$/;
/** A host name or address literal: visible ASCII. */
const HOST = /^[\x21-\x7e]+$/;

export interface Xoauth2Message {
  readonly user: string;
  readonly token: Secret;
}

export interface OAuthBearerMessage {
  /** The gs2 authzid ("a="), normally the user's address. */
  readonly authzid?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly token: Secret;
}

/** @example encodeXoauth2('someuser@example.com', 'ya29.vF9dft4q') → "user=someuser@example.com^Aauth=Bearer ya29.vF9dft4q^A^A" */
export function encodeXoauth2(user: string, token: SecretLike): Buffer {
  if (user === '' || /[\x00-\x1f\x7f]/.test(user)) {
    throw new AuthError(
      'EAUTH_PROTOCOL',
      'XOAUTH2 needs a user name that is not empty and has no control characters',
    );
  }
  return Buffer.from(`user=${user}${SEP}auth=Bearer ${checkToken(token)}${SEP}${SEP}`, 'utf8');
}

export function decodeXoauth2(message: Buffer): Xoauth2Message {
  const pairs = keyValuePairs(decodeText(message), 'XOAUTH2');
  const user = pairs.get('user');
  if (!user) throw malformed('XOAUTH2', 'the user is missing');
  return { user, token: bearerToken(pairs, 'XOAUTH2') };
}

/**
 * @example encodeOAuthBearer({ authzid: 'user@example.com', host: 'server.example.com', port: 143, token })
 *   → "n,a=user@example.com,^Ahost=server.example.com^Aport=143^Aauth=Bearer <token>^A^A"
 */
export function encodeOAuthBearer(message: {
  readonly authzid?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly token: SecretLike;
}): Buffer {
  const { authzid, host, port } = message;
  // RFC 7628 §3.1 has no channel binding, so the GS2 flag is always "n".
  const gs2 = encodeGs2Header({ channelBinding: { flag: 'n' }, authzid: authzid || undefined });
  const pairs: string[] = [];
  if (host !== undefined) {
    if (!HOST.test(host)) throw new AuthError('EAUTH_PROTOCOL', 'OAUTHBEARER cannot send this host name');
    pairs.push(`host=${host}`);
  }
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new AuthError('EAUTH_PROTOCOL', 'OAUTHBEARER needs a port between 0 and 65535');
    }
    pairs.push(`port=${port}`);
  }
  pairs.push(`auth=Bearer ${checkToken(message.token)}`);
  return Buffer.from(`${gs2}${SEP}${pairs.join(SEP)}${SEP}${SEP}`, 'utf8');
}

export function decodeOAuthBearer(message: Buffer): OAuthBearerMessage {
  const { header, rest } = parseGs2Header(decodeText(message));
  if (header.channelBinding.flag === 'p') throw malformed('OAUTHBEARER', 'it asks for channel binding');
  if (!rest.startsWith(SEP)) throw malformed('OAUTHBEARER', 'the GS2 header is not followed by ^A');
  const pairs = keyValuePairs(rest.slice(1), 'OAUTHBEARER');
  const portText = pairs.get('port');
  if (portText !== undefined && !/^[0-9]{1,5}$/.test(portText)) throw malformed('OAUTHBEARER', 'bad port');
  return {
    authzid: header.authzid,
    host: pairs.get('host'),
    port: portText === undefined ? undefined : Number(portText),
    token: bearerToken(pairs, 'OAUTHBEARER'),
  };
}

/**
 * The server's error challenge, e.g. {"status":"invalid_token","scope":"...","openid-configuration":"..."}.
 * A challenge that is not a JSON object still reports a failure, so it yields an empty object, never undefined.
 */
export function parseErrorChallenge(challenge: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(challenge.toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // Not JSON: the server still said no.
  }
  return {};
}

function checkToken(token: SecretLike): string {
  const value = revealSecret(token);
  if (!TOKEN.test(value)) {
    throw new AuthError(
      'EAUTH_PROTOCOL',
      'the access token is empty or contains spaces or control characters',
      {
        hint: 'pass the bare token, without "Bearer " in front',
      },
    );
  }
  return value;
}

/** "k=v^Ak=v^A^A" → map; the message must end with the double ^A. */
function keyValuePairs(text: string, mechanism: string): Map<string, string> {
  if (!text.endsWith(SEP + SEP)) throw malformed(mechanism, 'it does not end with ^A^A');
  const pairs = new Map<string, string>();
  for (const pair of text.slice(0, -2).split(SEP)) {
    const match = /^([A-Za-z]+)=(.*)$/s.exec(pair);
    if (!match) throw malformed(mechanism, 'a field is not of the form key=value');
    pairs.set(match[1]!, match[2]!);
  }
  return pairs;
}

function bearerToken(pairs: Map<string, string>, mechanism: string): Secret {
  const match = /^bearer +([\x21-\x7e]+)$/i.exec(pairs.get('auth') ?? '');
  if (!match) throw malformed(mechanism, 'the auth field is missing or not "Bearer <token>"');
  return new Secret(match[1]!);
}

function decodeText(message: Buffer): string {
  if (!isUtf8(message)) throw new AuthError('EAUTH_PROTOCOL', 'malformed OAuth message: not UTF-8');
  return message.toString('utf8');
}

function malformed(mechanism: string, why: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `malformed ${mechanism} message: ${why}`);
}
