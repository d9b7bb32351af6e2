import { hasCredentialKind } from './credentials.js';
import { findMechanism, MECHANISMS } from './mechanisms.js';
import type { Credentials } from './types.js';

export interface ChooseMechanismOptions {
  /**
   * Mechanisms to use instead of the built-in order; the first one that is offered and usable wins. When none
   * is, the answer is undefined (not a silent fallback), so the caller can say "the server does not offer X".
   */
  readonly preferred?: readonly string[] | undefined;
  /** Whether channel-binding data is available (TLS); -PLUS mechanisms are usable only then. */
  readonly channelBinding?: boolean | undefined;
}

/**
 * Picks the mechanism to authenticate with from what the server offers (its EHLO AUTH list), strongest first:
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (both only with channel binding), SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5,
 * PLAIN, LOGIN for passwords; OAUTHBEARER, XOAUTH2 for access tokens. Names compare case-insensitively and the
 * canonical upper-case name is returned.
 * @example chooseMechanism(['PLAIN', 'SCRAM-SHA-256'], { user: 'u', pass: 'p' }) === 'SCRAM-SHA-256'
 */
export function chooseMechanism(
  offered: readonly string[],
  credentials: Credentials,
  options: ChooseMechanismOptions = {},
): string | undefined {
  const offeredNames = new Set(offered.map((name) => name.toUpperCase()));
  const preferred = options.preferred ?? [];
  const candidates = preferred.length > 0 ? preferred : MECHANISMS.map((spec) => spec.name);
  for (const candidate of candidates) {
    const spec = findMechanism(candidate);
    if (
      spec !== undefined &&
      offeredNames.has(spec.name) &&
      hasCredentialKind(credentials, spec.credentials) &&
      (!spec.channelBinding || options.channelBinding === true)
    ) {
      return spec.name;
    }
  }
  return undefined;
}
