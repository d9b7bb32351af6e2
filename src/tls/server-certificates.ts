/**
 * The certificates a server presents: one pair, an SNI map of names to pairs, or PEM files that can be
 * re-read without a restart. Everything is loaded and checked (key matches certificate, not expired) before
 * it replaces what the server uses, so a bad reload keeps the old certificates in service.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';

/** PEM text, or PEM files read at start and again at each reload. */
export type CertificateSource =
  | { readonly cert: string | Buffer; readonly key: string | Buffer }
  | { readonly certFile: string; readonly keyFile: string };

/** `sni`: server names ("mail.example.com", "*.example.com") to certificates; `default` for the rest. */
export interface SniCertificates {
  readonly sni: Readonly<Record<string, CertificateSource>>;
  readonly default?: CertificateSource;
}

export type ServerCertificateConfig = CertificateSource | SniCertificates;

/** A checked certificate chain and key, PEM. */
export interface LoadedCertificate {
  readonly cert: string;
  readonly key: string;
  /** Subject CN and DNS SANs of the leaf, lower case. */
  readonly names: readonly string[];
  readonly notAfter: Date;
  /** Where it came from, for messages ("file /etc/x.pem" or "inline"). */
  readonly origin: string;
}

export interface CertificateSet {
  readonly default: LoadedCertificate;
  /** Lower-case name (may start with "*.") to certificate. */
  readonly byName: ReadonlyMap<string, LoadedCertificate>;
}

function isSni(config: ServerCertificateConfig): config is SniCertificates {
  return typeof config === 'object' && config !== null && 'sni' in config;
}

async function loadOne(source: CertificateSource, label: string): Promise<LoadedCertificate> {
  let cert: string;
  let key: string;
  let origin: string;
  if ('certFile' in source) {
    origin = `file ${source.certFile}`;
    try {
      [cert, key] = await Promise.all([readFile(source.certFile, 'utf8'), readFile(source.keyFile, 'utf8')]);
    } catch (cause) {
      throw new InputError('ECONFIG', `cannot read the ${label} certificate or key file`, {
        cause,
        hint: `check that ${source.certFile} and ${source.keyFile} exist and are readable`,
      });
    }
  } else {
    origin = 'inline';
    cert = source.cert.toString();
    key = source.key.toString();
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match');
  } catch (cause) {
    throw new InputError(
      'ECONFIG',
      `the ${label} certificate (${origin}) is not a PEM certificate with its key`,
      {
        cause,
        hint: 'give the certificate chain (leaf first) and the private key that belongs to the leaf, both PEM',
      },
    );
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() < Date.now()) {
    throw new InputError(
      'ECONFIG',
      `the ${label} certificate (${origin}) expired on ${notAfter.toISOString()}`,
      {
        hint: 'renew it, or use tls: "auto" for a generated local certificate',
      },
    );
  }
  return { cert, key, names: namesOf(leaf), notAfter, origin };
}

function namesOf(cert: X509Certificate): string[] {
  const names = new Set<string>();
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  if (cn) names.add(cn.toLowerCase());
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) names.add(part.slice(4).toLowerCase());
  }
  return [...names];
}

/**
 * Loads and checks every certificate of a configuration.
 *
 * @example const set = await loadCertificates({ certFile: 'cert.pem', keyFile: 'key.pem' });
 */
export async function loadCertificates(config: ServerCertificateConfig): Promise<CertificateSet> {
  if (!isSni(config)) return { default: await loadOne(config, 'server'), byName: new Map() };
  const entries = Object.entries(config.sni);
  if (entries.length === 0 && !config.default) {
    throw new InputError('ECONFIG', 'tls.sni is empty and there is no tls.default certificate');
  }
  const byName = new Map<string, LoadedCertificate>();
  for (const [name, source] of entries) byName.set(name.toLowerCase(), await loadOne(source, `"${name}"`));
  const fallback = config.default ? await loadOne(config.default, 'default') : byName.values().next().value;
  if (!fallback) throw new InputError('ECONFIG', 'no default certificate');
  return { default: fallback, byName };
}

/**
 * The certificate for an SNI name: an exact entry, then a wildcard for the leftmost label
 * (RFC 6125 §6.4.3), then the default.
 */
export function certificateFor(set: CertificateSet, servername: string | undefined): LoadedCertificate {
  if (!servername) return set.default;
  const name = servername.toLowerCase().replace(/\.$/, '');
  const exact = set.byName.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  const wildcard = dot === -1 ? undefined : set.byName.get(`*${name.slice(dot)}`);
  return wildcard ?? set.default;
}
