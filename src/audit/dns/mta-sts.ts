/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and matching MX host names against the policy's patterns.
 * Parsing is strict: what the RFC's ABNF does not allow is an error, because senders must then ignore it.
 */
import { EXTENSION_VALUE, type Parsed, splitTagList } from './tag-list.js';

/** RFC 8461 §3.2: max_age is at most 31557600 seconds (one year). */
export const MTA_STS_MAX_AGE_LIMIT = 31_557_600;

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsRecord {
  readonly id: string;
  /** Fields other than v and id, which senders ignore. */
  readonly extensions: Readonly<Record<string, string>>;
}

export interface MtaStsPolicy {
  readonly version: 'STSv1';
  readonly mode: MtaStsMode;
  /** Patterns as written: "mail.example.com" or "*.example.com". */
  readonly mx: readonly string[];
  readonly maxAge: number;
  readonly extensions: Readonly<Record<string, string>>;
}

/** The host that serves a domain's policy. */
export function mtaStsPolicyHost(domain: string): string {
  return `mta-sts.${domain.toLowerCase().replace(/\.$/, '')}`;
}

/** The URL of a domain's policy (RFC 8461 §3.3). */
export function mtaStsPolicyUrl(domain: string): string {
  return `https://${mtaStsPolicyHost(domain)}/.well-known/mta-sts.txt`;
}

/**
 * Parses the text of one `_mta-sts` TXT record (its strings joined).
 *
 * @example parseMtaStsRecord('v=STSv1; id=20160831085700Z') // { ok: true, value: { id: '20160831085700Z', … } }
 */
export function parseMtaStsRecord(text: string): Parsed<MtaStsRecord> {
  const split = splitTagList(text, 'v=STSv1');
  if (!split.ok) return split;
  let id: string | undefined;
  const extensions: Record<string, string> = {};
  for (const { name, value } of split.value) {
    if (name === 'id') {
      if (id !== undefined) return { ok: false, error: 'more than one id field' };
      if (!/^[A-Za-z0-9]{1,32}$/.test(value)) {
        return { ok: false, error: `id ${JSON.stringify(value)} is not 1 to 32 letters and digits` };
      }
      id = value;
    } else if (!EXTENSION_VALUE.test(value)) {
      return { ok: false, error: `field "${name}" has a value with forbidden characters` };
    } else {
      extensions[name] = value;
    }
  }
  if (id === undefined) return { ok: false, error: 'no id field (required)' };
  return { ok: true, value: { id, extensions } };
}

/** RFC 5321 Domain: dot-separated labels of letters, digits and inner hyphens. */
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** sts-policy-ext-value: visible characters (UTF-8 too), inner spaces allowed. */
const POLICY_EXTENSION_VALUE = /^[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$/u;

function validMxPattern(pattern: string): boolean {
  const domain = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  return DOMAIN.test(domain) && domain.split('.').every((label) => label.length <= 63);
}

/**
 * Parses a policy file (RFC 8461 §3.2): "key: value" lines ended by LF or CRLF; version, mode and max_age
 * exactly once, mx at least once unless the mode is "none"; unknown keys are kept as extensions.
 */
export function parseMtaStsPolicy(body: Buffer | string): Parsed<MtaStsPolicy> {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { ok: false, error: 'the policy is not valid UTF-8' };
  }
  const lines = text.split('\n');
  // The last term is optional: a final LF leaves one empty element, which is not a line.
  if (lines.at(-1) === '') lines.pop();
  const seen = new Map<string, string>();
  const mx: string[] = [];
  const extensions: Record<string, string> = {};
  for (const [i, raw] of lines.entries()) {
    const where = `line ${i + 1}`;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.includes('\r')) return { ok: false, error: `${where}: a bare CR` };
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) {
      return {
        ok: false,
        error: line === '' ? `${where} is empty` : `${where}: ${JSON.stringify(line)} is not "key: value"`,
      };
    }
    const key = m[1] as string;
    const value = m[2] as string;
    if (key === 'mx') {
      if (!validMxPattern(value))
        return { ok: false, error: `${where}: mx ${JSON.stringify(value)} is not a host name` };
      mx.push(value);
      continue;
    }
    if (key === 'version' || key === 'mode' || key === 'max_age') {
      if (seen.has(key)) return { ok: false, error: `${where}: ${key} appears more than once` };
      seen.set(key, value);
      continue;
    }
    if (!POLICY_EXTENSION_VALUE.test(value)) {
      return { ok: false, error: `${where}: ${key} has an empty or invalid value` };
    }
    extensions[key] = value;
  }
  const version = seen.get('version');
  const mode = seen.get('mode');
  const maxAgeText = seen.get('max_age');
  if (version === undefined) return { ok: false, error: 'no version field (required)' };
  if (version !== 'STSv1') return { ok: false, error: `version ${JSON.stringify(version)} is not STSv1` };
  if (mode === undefined) return { ok: false, error: 'no mode field (required)' };
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') {
    return { ok: false, error: `mode ${JSON.stringify(mode)} is not enforce, testing or none` };
  }
  if (maxAgeText === undefined) return { ok: false, error: 'no max_age field (required)' };
  if (!/^\d{1,10}$/.test(maxAgeText)) {
    return { ok: false, error: `max_age ${JSON.stringify(maxAgeText)} is not 1 to 10 digits` };
  }
  const maxAge = Number(maxAgeText);
  if (maxAge > MTA_STS_MAX_AGE_LIMIT) {
    return {
      ok: false,
      error: `max_age ${maxAge} exceeds the maximum of ${MTA_STS_MAX_AGE_LIMIT} (one year)`,
    };
  }
  if (mx.length === 0 && mode !== 'none')
    return { ok: false, error: `mode ${mode} needs at least one mx field` };
  return { ok: true, value: { version: 'STSv1', mode, mx, maxAge, extensions } };
}

function bareHost(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * RFC 8461 §4.1: a pattern matches the MX host name exactly, or "*.example.com" matches exactly one label in
 * place of the "*" ("mail.example.com", not "example.com" nor "a.b.example.com"). Case-insensitive.
 */
export function mxMatchesPattern(mx: string, pattern: string): boolean {
  const host = bareHost(mx);
  const p = bareHost(pattern);
  if (!p.startsWith('*.')) return host === p;
  const suffix = p.slice(1);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** True when any of the policy's patterns matches `mx`. */
export function mxMatchesPolicy(mx: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => mxMatchesPattern(mx, p));
}
