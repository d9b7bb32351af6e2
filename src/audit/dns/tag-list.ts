/**
 * The "v=VERSION; name=value; …" TXT syntax that MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) share:
 * a version, then one or more fields, each after `*WSP ";" *WSP`, with an optional delimiter at the end.
 */

/** What a parse gives back: the value, or the first reason it is not valid. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export interface TagField {
  readonly name: string;
  readonly value: string;
}

/** Field names: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
const FIELD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/** Extension values: 1*(%x21-3A / %x3C / %x3E-7E) — printable ASCII except "=", ";" and space. */
export const EXTENSION_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

/** The TXT records (each one's strings joined) that start with `version`; the others are not ours. */
export function recordsWithVersion(texts: readonly string[], version: string): string[] {
  return texts.filter((t) => t.startsWith(version) && /^(?:$|[ \t;])/.test(t.slice(version.length)));
}

/**
 * Splits a record into its fields after checking the version and the delimiters. Field values are returned
 * as written (without surrounding WSP) for the caller to check against its own grammar.
 */
export function splitTagList(text: string, version: string): Parsed<TagField[]> {
  if (!text.startsWith(version)) return { ok: false, error: `does not start with "${version}"` };
  const [head = '', ...parts] = text.slice(version.length).split(';');
  if (!/^[ \t]*$/.test(head)) {
    return { ok: false, error: `expected ";" after "${version}", found ${JSON.stringify(head.trim())}` };
  }
  const fields: TagField[] = [];
  for (const [i, part] of parts.entries()) {
    const field = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (field === '') {
      // A delimiter may end the record; an empty field anywhere else is a syntax error.
      if (i === parts.length - 1 && fields.length > 0) break;
      return {
        ok: false,
        error: i === parts.length - 1 ? 'no fields after the version' : 'empty field ";;"',
      };
    }
    const eq = field.indexOf('=');
    const name = eq < 0 ? field : field.slice(0, eq);
    if (eq < 0 || !FIELD_NAME.test(name)) {
      return { ok: false, error: `malformed field ${JSON.stringify(field)} (expected name=value)` };
    }
    const value = field.slice(eq + 1);
    if (value === '') return { ok: false, error: `field "${name}" has an empty value` };
    fields.push({ name, value });
  }
  if (fields.length === 0) return { ok: false, error: 'no fields after the version' };
  return { ok: true, value: fields };
}
