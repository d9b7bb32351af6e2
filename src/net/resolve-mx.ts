/**
 * MX records of a mail domain (RFC 5321 §5.1), from the system's DNS servers, with one bounded timeout.
 */
import { promises as dns } from 'node:dns';
import { ConnectionError } from '../core/errors.js';

export interface MxHost {
  readonly preference: number;
  readonly exchange: string;
}

/**
 * The MX hosts of `domain`, lowest preference first; [] when the domain exists but has none. Throws an 'EDNS'
 * ConnectionError when the domain does not exist (permanent) or the DNS server did not answer (transient).
 *
 * @example await resolveMx('example.com', { timeout: 5000 }) // [{ preference: 10, exchange: 'mx.example.com' }]
 */
export async function resolveMx(domain: string, o: { readonly timeout?: number } = {}): Promise<MxHost[]> {
  const resolver = new dns.Resolver({ timeout: o.timeout ?? 5000, tries: 1 });
  try {
    const records = await resolver.resolveMx(domain);
    return records
      .map((r) => ({ preference: r.priority, exchange: r.exchange }))
      .sort((a, b) => a.preference - b.preference);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENODATA') return [];
    const missing = code === 'ENOTFOUND';
    throw new ConnectionError(
      'EDNS',
      missing
        ? `the domain ${domain} does not exist`
        : `could not look up the MX records of ${domain} (${code})`,
      {
        cause,
        transient: !missing,
        hint: missing ? 'check the spelling of the domain' : 'the DNS server did not answer; try again',
      },
    );
  } finally {
    resolver.cancel();
  }
}
