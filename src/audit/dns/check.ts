/**
 * The DNS policy part of `postern audit --domain`: MX, MTA-STS (record and policy), TLS-RPT, and DANE TLSA for
 * each MX. All lookups go to one resolver (`--resolver host:port`, else the system's), including the address
 * of the MTA-STS policy host, so the whole check can run against a local server. Nothing here throws for a
 * bad record or an unreachable server: each problem becomes a sentence in the `errors` of its part.
 */
import { ConnectionError, isPosternError } from '../../core/index.js';
import { DnsClient, type DnsLookup, httpsGet } from '../../net/index.js';
import { mapLimit } from '../connect.js';
import type { DaneResult, DnsPolicyResult } from '../types.js';
import { findDaneMatch, tlsaText, tlsaUnusable } from './dane.js';
import {
  type MtaStsPolicy,
  mtaStsPolicyHost,
  mtaStsPolicyUrl,
  mxMatchesPolicy,
  parseMtaStsPolicy,
  parseMtaStsRecord,
} from './mta-sts.js';
import { recordsWithVersion } from './tag-list.js';
import { parseTlsRptRecord, tlsRptName } from './tls-rpt.js';

/** Where to fetch the policy from: an address and port, the certificate still checked against the host name. */
export interface PolicyEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface DnsPolicyOptions {
  /** "127.0.0.1:5353", "[::1]:53"; default the first nameserver of /etc/resolv.conf. */
  readonly resolver?: string | undefined;
  /** CA certificates (PEM) trusted for the policy's HTTPS server instead of the system roots. */
  readonly mtaStsCa?: Buffer | undefined;
  /** Where to connect for the policy host; default its A/AAAA record from the resolver, port 443. */
  readonly mtaStsConnect?: ((host: string) => PolicyEndpoint | Promise<PolicyEndpoint>) | undefined;
  /** The DER chain (leaf first) each MX presented, by MX host name, for DANE matching. */
  readonly chains?: Readonly<Record<string, readonly Buffer[]>> | undefined;
  /** Milliseconds per DNS attempt and for the policy fetch; default 3000 for DNS, 10000 for HTTPS. */
  readonly timeout?: number | undefined;
  /** UDP retries per DNS question; default 2. */
  readonly retries?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** How many MX hosts get a TLSA lookup, and how many lookups run at once. */
const MAX_DANE_HOSTS = 20;
const DNS_CONCURRENCY = 4;

function describe(err: unknown): string {
  if (isPosternError(err)) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

function bare(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The first A (else AAAA) address of `host` as `dns` answers; a failed lookup of one family does not hide a good
 * record of the other. No address at all is an EDNS ConnectionError with `hint`.
 */
export async function hostAddress(
  dns: DnsClient,
  host: string,
  hint: string,
  signal?: AbortSignal,
): Promise<string> {
  const [a, aaaa] = await Promise.allSettled([
    dns.lookup(host, 'A', signal),
    dns.lookup(host, 'AAAA', signal),
  ]);
  const first = (r: typeof a | typeof aaaa) =>
    r.status === 'fulfilled' ? r.value.records[0]?.address : undefined;
  const address = first(a) ?? first(aaaa);
  if (address !== undefined) return address;
  const failed = [a, aaaa].find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  throw new ConnectionError('EDNS', `${host} has no A or AAAA record`, { hint });
}

/**
 * The address and port to fetch a domain's MTA-STS policy from: the policy host's first A (else AAAA) record,
 * as the given resolver answers, and port 443 unless told otherwise.
 *
 * @example await resolveMtaStsEndpoint('example.com', { resolver: '127.0.0.1:5353' }) // { host: '127.0.0.1', port: 443 }
 */
export async function resolveMtaStsEndpoint(
  domain: string,
  options: {
    readonly resolver?: string | undefined;
    readonly port?: number | undefined;
    readonly timeout?: number | undefined;
    readonly signal?: AbortSignal | undefined;
    /** Reuse a client (and its resolver) instead of making one. */
    readonly client?: DnsClient | undefined;
  } = {},
): Promise<PolicyEndpoint> {
  const dns = options.client ?? new DnsClient({ resolver: options.resolver, timeout: options.timeout });
  const address = await hostAddress(
    dns,
    mtaStsPolicyHost(domain),
    'the MTA-STS policy host must resolve to the HTTPS server that serves the policy',
    options.signal,
  );
  return { host: address, port: options.port ?? 443 };
}

type MtaStsPart = DnsPolicyResult['mtaSts'];
type TlsRptPart = DnsPolicyResult['tlsRpt'];

/** The TXT records of a name, each one's strings joined; a failed lookup becomes an error sentence. */
async function txtRecords(
  dns: DnsClient,
  name: string,
  errors: string[],
  signal: AbortSignal | undefined,
): Promise<string[] | undefined> {
  try {
    const found = await dns.lookup(name, 'TXT', signal);
    return found.records.map((r) => r.strings.join(''));
  } catch (err) {
    errors.push(`${name} TXT: ${describe(err)}`);
    return undefined;
  }
}

async function checkMtaSts(
  domain: string,
  dns: DnsClient,
  mxHosts: Promise<readonly string[]>,
  o: DnsPolicyOptions,
): Promise<MtaStsPart> {
  const errors: string[] = [];
  const name = `_mta-sts.${domain}`;
  const texts = await txtRecords(dns, name, errors, o.signal);
  const candidates = recordsWithVersion(texts ?? [], 'v=STSv1');
  const part = (record: string | null, extra: Partial<MtaStsPart> = {}): MtaStsPart => ({
    record,
    policy: null,
    mxMatched: {},
    errors,
    ...extra,
  });
  if (candidates.length === 0) return part(null);
  const record = candidates[0] as string;
  if (candidates.length > 1) {
    errors.push(
      `${name}: ${candidates.length} records start with v=STSv1; senders ignore MTA-STS unless there is exactly one`,
    );
    return part(record);
  }
  const parsed = parseMtaStsRecord(record);
  if (!parsed.ok) {
    errors.push(`${name}: ${parsed.error}; senders ignore an invalid record (RFC 8461 §3.1)`);
    return part(record);
  }
  const id = parsed.value.id;
  const policy = await fetchPolicy(domain, dns, o, errors);
  if (!policy) return part(record, { id });
  const mxMatched: Record<string, boolean> = {};
  for (const mx of await mxHosts) {
    mxMatched[mx] = mxMatchesPolicy(mx, policy.mx);
    if (!mxMatched[mx] && policy.mode !== 'none') {
      errors.push(`MX ${mx} matches no mx pattern of the policy (${policy.mx.join(', ')})`);
    }
  }
  return part(record, { id, policy: { mode: policy.mode, mx: policy.mx, maxAge: policy.maxAge }, mxMatched });
}

async function fetchPolicy(
  domain: string,
  dns: DnsClient,
  o: DnsPolicyOptions,
  errors: string[],
): Promise<MtaStsPolicy | undefined> {
  const url = mtaStsPolicyUrl(domain);
  const host = mtaStsPolicyHost(domain);
  let body: Buffer;
  try {
    const connect = o.mtaStsConnect
      ? await o.mtaStsConnect(host)
      : await resolveMtaStsEndpoint(domain, { client: dns, signal: o.signal });
    const res = await httpsGet({ url, connect, ca: o.mtaStsCa, timeout: o.timeout, signal: o.signal });
    if (res.status >= 300 && res.status < 400) {
      errors.push(`${url}: HTTP ${res.status} redirect; RFC 8461 §3.3 forbids following redirects`);
      return undefined;
    }
    if (res.status !== 200) {
      errors.push(`${url}: HTTP ${res.status}; the policy must be served with 200`);
      return undefined;
    }
    if (res.mediaType !== 'text/plain') {
      errors.push(`${url}: served as ${res.mediaType ?? 'no media type'}; RFC 8461 §3.2 requires text/plain`);
    }
    body = res.body;
  } catch (err) {
    errors.push(`${url}: ${describe(err)}`);
    return undefined;
  }
  const parsed = parseMtaStsPolicy(body);
  if (!parsed.ok) {
    errors.push(`${url}: ${parsed.error}`);
    return undefined;
  }
  return parsed.value;
}

async function checkTlsRpt(
  domain: string,
  dns: DnsClient,
  signal: AbortSignal | undefined,
): Promise<TlsRptPart> {
  const errors: string[] = [];
  const name = tlsRptName(domain);
  const candidates = recordsWithVersion((await txtRecords(dns, name, errors, signal)) ?? [], 'v=TLSRPTv1');
  const record = candidates[0] ?? null;
  if (record === null) return { record, rua: [], errors };
  if (candidates.length > 1) {
    errors.push(
      `${name}: ${candidates.length} records start with v=TLSRPTv1; senders send no reports unless there is exactly one`,
    );
    return { record, rua: [], errors };
  }
  const parsed = parseTlsRptRecord(record);
  if (!parsed.ok) {
    errors.push(`${name}: ${parsed.error}`);
    return { record, rua: [], errors };
  }
  return { record, rua: parsed.value.rua, errors };
}

async function checkDane(mx: string, dns: DnsClient, o: DnsPolicyOptions): Promise<DaneResult> {
  const name = `_25._tcp.${mx}`;
  const errors: string[] = [];
  let found: DnsLookup<'TLSA'>;
  try {
    found = await dns.lookup(name, 'TLSA', o.signal);
  } catch (err) {
    // RFC 7672 §2.2: a failed TLSA lookup (e.g. SERVFAIL) means a DANE sender must not deliver to this MX.
    errors.push(`${name} TLSA: ${describe(err)}`);
    return { mx, records: [], authenticated: false, matches: null, errors };
  }
  const records = found.records.map((r) => ({
    usage: r.usage,
    selector: r.selector,
    matchingType: r.matchingType,
    data: r.data.toString('hex'),
  }));
  const usable = records.filter((r) => {
    const why = tlsaUnusable(r);
    if (why) errors.push(`${name} TLSA ${tlsaText(r)}: ${why}`);
    return why === undefined;
  });
  if (records.length > 0 && !found.authenticated) {
    errors.push(`${name}: the TLSA answer is not DNSSEC-validated (no AD bit), so senders ignore it`);
  }
  if (records.length > 0 && usable.length === 0) errors.push(`${name}: no usable TLSA record`);
  const chain = Object.entries(o.chains ?? {}).find(([host]) => bare(host) === mx)?.[1];
  const matches =
    chain && usable.length > 0 ? findDaneMatch(usable, chain, { host: mx }) !== undefined : null;
  if (matches === false) errors.push(`${name}: no TLSA record matches the certificate chain ${mx} presented`);
  return { mx, records, authenticated: found.authenticated, matches, errors };
}

/**
 * Checks the DNS-published transport security policy of a mail domain.
 *
 * @example
 * const result = await checkDnsPolicy('example.com', { resolver: '127.0.0.1:5353', mtaStsCa: readFileSync('ca.pem') });
 */
export async function checkDnsPolicy(
  domain: string,
  options: DnsPolicyOptions = {},
): Promise<DnsPolicyResult> {
  const name = bare(domain);
  const errors: string[] = [];
  let dns: DnsClient;
  try {
    dns = new DnsClient({
      resolver: options.resolver,
      timeout: options.timeout,
      retries: options.retries,
      signal: options.signal,
    });
  } catch (err) {
    const message = describe(err);
    return {
      domain: name,
      mx: [],
      mtaSts: { record: null, policy: null, mxMatched: {}, errors: [message] },
      tlsRpt: { record: null, rua: [], errors: [message] },
      dane: [],
      errors: [message],
    };
  }
  const mxRun = (async () => {
    try {
      const found = await dns.lookup(name, 'MX', options.signal);
      const mx = found.records
        .map((r) => ({ preference: r.preference, exchange: r.exchange }))
        .sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
      if (mx.length === 0) errors.push(`${name} has no MX records`);
      if (mx.some((r) => r.exchange === ''))
        errors.push(`${name} has a null MX (RFC 7505): it accepts no mail`);
      return { mx, authenticated: found.authenticated };
    } catch (err) {
      errors.push(`${name} MX: ${describe(err)}`);
      return { mx: [], authenticated: false };
    }
  })();
  const hosts = mxRun.then(({ mx }) => [...new Set(mx.map((r) => r.exchange).filter((e) => e !== ''))]);
  const [mx, mtaSts, tlsRpt, dane] = await Promise.all([
    mxRun,
    checkMtaSts(name, dns, hosts, options),
    checkTlsRpt(name, dns, options.signal),
    hosts.then((list) => {
      if (list.length > MAX_DANE_HOSTS)
        errors.push(`only the first ${MAX_DANE_HOSTS} of ${list.length} MX hosts were checked for DANE`);
      return mapLimit(list.slice(0, MAX_DANE_HOSTS), DNS_CONCURRENCY, (host) =>
        checkDane(host, dns, options),
      );
    }),
  ]);
  return { domain: name, mx: mx.mx, mxAuthenticated: mx.authenticated, mtaSts, tlsRpt, dane, errors };
}
