import { InputError, redactUrl, Secret } from '../core/index.js';
import { isTlsMode, type TlsMode } from '../tls/index.js';
import type { TransportOptions } from './transport.js';

/**
 * Parses a transport URL: `smtps://user:pass@host:465` (implicit TLS), `smtp://host:587` (STARTTLS required),
 * with `?tls=opportunistic|none|starttls|implicit`, `servername=`, `name=` (EHLO), `auth=MECH`, `pool=false`.
 *
 * @example parseSmtpUrl('smtp://me%40example.com:secret@mail.example.com:587')
 */
export function parseSmtpUrl(text: string): TransportOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: an unparsable URL cannot be redacted reliably and may hold a password.
    throw new InputError('ECONFIG', 'not a valid SMTP URL', {
      hint: 'use smtps://host:465 or smtp://host:587',
    });
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'smtp' && scheme !== 'smtps') {
    throw new InputError('ECONFIG', `unsupported URL scheme "${scheme}" in ${redactUrl(text)}`, {
      hint: 'use smtps:// (implicit TLS) or smtp:// (STARTTLS)',
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new InputError('ECONFIG', `the URL ${redactUrl(text)} has no host`);
  const q = url.searchParams;
  const tlsParam = q.get('tls');
  if (tlsParam !== null && !isTlsMode(tlsParam)) {
    throw new InputError('ECONFIG', `unknown tls mode "${tlsParam}"`, {
      hint: 'tls is one of implicit, starttls, opportunistic, none',
    });
  }
  const tls: TlsMode = (tlsParam as TlsMode | null) ?? (scheme === 'smtps' ? 'implicit' : 'starttls');
  const port = url.port ? Number(url.port) : tls === 'implicit' ? 465 : 587;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const servername = q.get('servername') ?? undefined;
  const pool = q.get('pool');
  return {
    host,
    port,
    tls,
    ...(q.get('name') ? { name: q.get('name')! } : {}),
    ...(q.get('auth') ? { authMethod: q.get('auth')! } : {}),
    ...(servername ? { tlsOptions: { servername } } : {}),
    ...(pool === 'false' || pool === '0' ? { pool: false } : {}),
    ...(user ? { auth: { user, pass: new Secret(pass) } } : {}),
  };
}
