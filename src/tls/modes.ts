/**
 * The one TLS mode a connection uses (shared/DESIGN.md: one union instead of a pile of booleans).
 * - `implicit`: TLS from the first byte (port 465, RFC 8314 §3.3).
 * - `starttls`: plaintext greeting, then STARTTLS; fails closed when the server does not offer it.
 * - `opportunistic`: STARTTLS when offered, plaintext otherwise — only for relaying where nothing better exists.
 * - `none`: plaintext; for test servers.
 */
export type TlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

export const TLS_MODES: readonly TlsMode[] = ['implicit', 'starttls', 'opportunistic', 'none'];

/**
 * The mode a port implies: 465 is submissions (implicit TLS), everything else starts in plaintext and must STARTTLS.
 *
 * @example defaultTlsMode(465) // 'implicit'
 */
export function defaultTlsMode(port: number): TlsMode {
  return port === 465 ? 'implicit' : 'starttls';
}

export function isTlsMode(value: unknown): value is TlsMode {
  return typeof value === 'string' && (TLS_MODES as readonly string[]).includes(value);
}
