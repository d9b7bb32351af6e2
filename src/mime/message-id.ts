/**
 * Message identifiers (RFC 5322 §3.6.4): "<left@right>" in Message-ID, In-Reply-To and References.
 * A generated one is random (122 bits) on the sender's domain, so it is unique without coordination.
 */
import { randomUUID } from 'node:crypto';
import { InputError } from '../core/errors.js';
import { assertOneLine, shown } from './input.js';

// id-left "@" id-right, each dot-atom-text or a bracketed literal; kept lenient (no-fold-literal,
// printable ASCII without brackets or spaces) because real ids come from many writers.
const ID = /^[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+$/;

/** A new Message-ID on `domain` (an A-label domain name). */
export function makeMessageId(domain: string): string {
  return `<${randomUUID()}@${domain}>`;
}

/**
 * A caller's message id with its angle brackets, checked.
 *
 * @example normalizeMessageId('abc@example.com') // => '<abc@example.com>'
 */
export function normalizeMessageId(value: string, what = 'the message id'): string {
  assertOneLine(value, what);
  const trimmed = value.trim();
  const inner = trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
  if (!ID.test(inner)) {
    throw new InputError('EINVALID_ARGUMENT', `${what} ${shown(value)} is not a message id`, {
      hint: 'write it as <unique-part@domain>, printable ASCII without spaces',
    });
  }
  return `<${inner}>`;
}

/** Several ids, given as a list or as one string separated by spaces or commas. */
export function messageIdList(value: string | readonly string[], what: string): string[] {
  const items = typeof value === 'string' ? [value] : value;
  return items.flatMap((item) => {
    if (typeof item !== 'string') throw new InputError('EINVALID_ARGUMENT', `${what} must be strings`);
    assertOneLine(item, what);
    return item
      .split(/[\s,]+/)
      .filter((id) => id !== '')
      .map((id) => normalizeMessageId(id, what));
  });
}
