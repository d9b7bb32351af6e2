/**
 * SMTP TLS Reporting (RFC 8460 §3): the `_smtp._tls` TXT record, "v=TLSRPTv1; rua=URI[,URI…]", which says
 * where senders send their daily reports of TLS failures. RFC 8460 defines mailto: and https: destinations.
 */
import { EXTENSION_VALUE, type Parsed, splitTagList } from './tag-list.js';

export interface TlsRptRecord {
  /** Report destinations as written, each a mailto: or https: URI. */
  readonly rua: readonly string[];
  readonly extensions: Readonly<Record<string, string>>;
}

/** The name of a domain's TLS-RPT record. */
export function tlsRptName(domain: string): string {
  return `_smtp._tls.${domain.toLowerCase().replace(/\.$/, '')}`;
}

function checkUri(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `rua ${JSON.stringify(uri)} is not a URI`;
  }
  if (url.protocol === 'mailto:') {
    let address = '';
    try {
      address = decodeURIComponent(url.pathname);
    } catch {
      // a broken %-escape: no valid address
    }
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address) ? undefined : `rua ${uri} has no valid mail address`;
  }
  if (url.protocol === 'https:') return url.hostname ? undefined : `rua ${uri} has no host`;
  return `rua ${uri} uses ${url.protocol.slice(0, -1)}:, but RFC 8460 only defines mailto: and https:`;
}

/**
 * Parses the text of one TLS-RPT TXT record (its strings joined); exactly one rua field is required.
 *
 * @example parseTlsRptRecord('v=TLSRPTv1; rua=mailto:tlsrpt@example.com') // { ok: true, value: { rua: [...] } }
 */
export function parseTlsRptRecord(text: string): Parsed<TlsRptRecord> {
  const split = splitTagList(text, 'v=TLSRPTv1');
  if (!split.ok) return split;
  let rua: string[] | undefined;
  const extensions: Record<string, string> = {};
  for (const { name, value } of split.value) {
    if (name === 'rua') {
      if (rua) return { ok: false, error: 'more than one rua field' };
      rua = value.split(/[ \t]*,[ \t]*/);
      for (const uri of rua) {
        const problem = uri === '' ? 'rua has an empty URI' : checkUri(uri);
        if (problem) return { ok: false, error: problem };
      }
    } else if (!EXTENSION_VALUE.test(value)) {
      return { ok: false, error: `field "${name}" has a value with forbidden characters` };
    } else {
      extensions[name] = value;
    }
  }
  if (!rua) return { ok: false, error: 'no rua field (required)' };
  return { ok: true, value: { rua, extensions } };
}
