/**
 * Host name resolution for the CLI's connections. RFC 6761 §6.4: names under .invalid never resolve, so they
 * are answered here without asking DNS; every other name goes to the system resolver as the client would ask.
 */
import { promises as dns } from 'node:dns';

export async function lookup(host: string): Promise<{ address: string; family: number }[]> {
  if (/(^|\.)invalid\.?$/i.test(host)) {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  }
  return dns.lookup(host, { all: true, verbatim: true });
}
