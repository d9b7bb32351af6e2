/**
 * DKIM options as the caller writes them, and their validated form. Everything is checked before the
 * first byte of a message is read, so a typo never costs a pass over a large message.
 */

import type { KeyObject } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { InputError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import type { BodyCanonicalization } from './body-canonicalization.js';
import { FIELD_NAME, type HeaderCanonicalization } from './header-fields.js';
import { type DkimAlgorithm, loadSigningKey, type SigningKey } from './signing-key.js';

export type DkimCanonicalization = 'relaxed/relaxed' | 'simple/simple' | 'relaxed/simple' | 'simple/relaxed';

export interface DkimOptions {
  /** d= — the signing domain; its DNS holds the key at `<keySelector>._domainkey.<domainName>`. */
  domainName: string;
  /** s= — the selector. */
  keySelector: string;
  /** PEM (PKCS#8, or PKCS#1 for RSA; PKCS#8 for Ed25519), a Secret holding the PEM, or a KeyObject. */
  privateKey: string | Secret | KeyObject;
  /** Default: from the key type. Given, it must match the key. */
  algorithm?: DkimAlgorithm;
  /** header/body; default relaxed/relaxed. */
  canonicalization?: DkimCanonicalization;
  /** Fields to sign when present (each instance). Default DKIM_DEFAULT_HEADER_FIELDS; must include From. */
  headerFieldNames?: readonly string[];
  /**
   * Fields signed once more than they occur, so adding one later breaks the signature (RFC 6376 §8.15).
   * Default ['From']. Names here are signed even when absent from headerFieldNames.
   */
  overSign?: readonly string[];
  /** x= — the signature expires this many seconds after t=. */
  expiresIn?: number;
  /** i= — the agent or user identity, "[local-part]@domain" with domain equal to or under domainName. */
  identity?: string;
}

/**
 * Fields signed by default when present: RFC 6376 §5.4.1's list, the MIME fields whose change would alter
 * how the body is read, and RFC 8058's List-Unsubscribe-Post (which MUST be signed).
 */
export const DKIM_DEFAULT_HEADER_FIELDS: readonly string[] = Object.freeze([
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'Content-Disposition',
  'Content-ID',
  'Content-Language',
  'Resent-Date',
  'Resent-From',
  'Resent-Sender',
  'Resent-To',
  'Resent-Cc',
  'Resent-Message-ID',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
]);

const DEFAULT_OVER_SIGN: readonly string[] = ['From'];

const CANONICALIZATIONS: ReadonlySet<string> = new Set([
  'relaxed/relaxed',
  'simple/simple',
  'relaxed/simple',
  'simple/relaxed',
]);

/** Validated options; `key` holds the only reference to key material. */
export interface DkimSigner extends SigningKey {
  readonly domain: string;
  readonly selector: string;
  readonly headerCanon: HeaderCanonicalization;
  readonly bodyCanon: BodyCanonicalization;
  readonly canonicalization: DkimCanonicalization;
  /** Lower-case names to sign, in order, without duplicates. */
  readonly signedNames: readonly string[];
  /** Lower-case names listed one extra time. */
  readonly overSigned: ReadonlySet<string>;
  readonly expiresIn: number | undefined;
  /** The i= value, already in dkim-quoted-printable form. */
  readonly identity: string | undefined;
}

export function resolveDkimOptions(options: DkimOptions): DkimSigner {
  if (typeof options !== 'object' || options === null) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM options must be an object');
  }
  const domain = toDomain(options.domainName, 'domainName');
  const selector = toDomain(options.keySelector, 'keySelector');
  const canonicalization = options.canonicalization ?? 'relaxed/relaxed';
  if (!CANONICALIZATIONS.has(canonicalization)) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      `DKIM canonicalization must be one of ${[...CANONICALIZATIONS].join(', ')}`,
    );
  }
  const [headerCanon, bodyCanon] = canonicalization.split('/') as [
    HeaderCanonicalization,
    BodyCanonicalization,
  ];
  const listed = headerNames(options.headerFieldNames ?? DKIM_DEFAULT_HEADER_FIELDS, 'headerFieldNames');
  if (!listed.includes('from')) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM headerFieldNames must include From (RFC 6376 §5.4)');
  }
  const overSigned = headerNames(options.overSign ?? DEFAULT_OVER_SIGN, 'overSign');
  const signedNames = [...listed, ...overSigned.filter((name) => !listed.includes(name))];
  const expiresIn = options.expiresIn;
  if (expiresIn !== undefined && !(Number.isSafeInteger(expiresIn) && expiresIn > 0)) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM expiresIn must be a whole number of seconds above 0');
  }
  const identity = options.identity === undefined ? undefined : toIdentity(options.identity, domain);
  // The key last: a bad option is reported without touching key material.
  const { algorithm, key } = loadSigningKey(options.privateKey, options.algorithm);
  return {
    algorithm,
    key,
    domain,
    selector,
    headerCanon,
    bodyCanon,
    canonicalization,
    signedNames,
    overSigned: new Set(overSigned),
    expiresIn,
    identity,
  };
}

function headerNames(names: unknown, option: string): string[] {
  if (!Array.isArray(names))
    throw new InputError('EINVALID_ARGUMENT', `DKIM ${option} must be an array of field names`);
  const out: string[] = [];
  for (const name of names) {
    if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
      throw new InputError(
        'EINVALID_ARGUMENT',
        `DKIM ${option} holds an invalid field name: ${JSON.stringify(String(name)).slice(0, 80)}`,
      );
    }
    const key = name.toLowerCase();
    if (key === 'dkim-signature') {
      throw new InputError('EINVALID_ARGUMENT', `DKIM ${option} must not list DKIM-Signature`, {
        hint: 'several signatures are made independently over the same fields',
      });
    }
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

/** A domain or selector: dot-separated labels of letters, digits, hyphens (and "_", seen in selectors). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

function toDomain(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InputError('EINVALID_ARGUMENT', `DKIM ${option} is required`);
  }
  // RFC 6376 §3.5: internationalised names go in A-label form.
  const ascii = /[^\x00-\x7f]/.test(value) ? domainToASCII(value) : value;
  if (ascii.length > 253 || !ascii.split('.').every((label) => LABEL.test(label))) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      `DKIM ${option} is not a valid domain name: ${JSON.stringify(value)}`,
    );
  }
  return ascii;
}

/**
 * i= is "[local-part]@domain" in dkim-quoted-printable (RFC 6376 §2.11): ";" and "=" (and space) are
 * written as =XX. Its domain must be the d= domain or under it (§3.5).
 */
function toIdentity(value: unknown, domain: string): string {
  const at = typeof value === 'string' ? value.lastIndexOf('@') : -1;
  if (typeof value !== 'string' || at === -1) {
    throw new InputError('EINVALID_ARGUMENT', 'DKIM identity must look like "user@domain" or "@domain"');
  }
  const local = value.slice(0, at);
  if (local.length > 64 || !/^[\x20-\x7e]*$/.test(local)) {
    throw new InputError(
      'EINVALID_ARGUMENT',
      'DKIM identity local part must be printable US-ASCII, at most 64 octets',
    );
  }
  const idDomain = toDomain(value.slice(at + 1), 'identity domain').toLowerCase();
  const d = domain.toLowerCase();
  if (idDomain !== d && !idDomain.endsWith(`.${d}`)) {
    throw new InputError('EINVALID_ARGUMENT', `DKIM identity domain must be ${domain} or a subdomain of it`);
  }
  const encoded = local.replace(
    /[ ;=]/g,
    (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `${encoded}@${idDomain}`;
}
