/**
 * Reads address lists written as strings (RFC 5322 §3.4): 'Ann <ann@example.com>, "Smith, Bob" <bob@x.org>',
 * 'bob@x.org (Bob)', 'Team: a@x.org, b@x.org;'. Lenient like the mail clients people copy addresses from:
 * it only splits the text into display names and addr-specs; address.ts then checks each addr-spec strictly.
 */

export interface ParsedMailbox {
  readonly name: string;
  readonly address: string;
}

export interface ParsedGroup {
  readonly name: string;
  readonly group: readonly ParsedMailbox[];
}

type TokenType = 'atom' | 'quoted' | 'comment' | 'angle' | ',' | ':' | ';';

interface Token {
  readonly type: TokenType;
  readonly value: string;
}

const SIMPLE = /^[^\s"(),:;<>[\]\\]+@[^\s"(),:;<>[\]\\]+$/;
const ATOM_END = /[\s"(<,:;]/;

/** Reads a quoted string starting after its opening quote; returns the unescaped text and the end index. */
function readQuoted(input: string, start: number): [string, number] {
  let value = '';
  let i = start;
  while (i < input.length && input[i] !== '"') {
    if (input[i] === '\\' && i + 1 < input.length) i++;
    value += input[i];
    i++;
  }
  return [value, i + 1];
}

function readComment(input: string, start: number): [string, number] {
  let depth = 1;
  let value = '';
  let i = start;
  for (; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === '\\' && i + 1 < input.length) {
      value += input[++i];
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) break;
    value += ch;
  }
  return [value, i + 1];
}

/** Reads "<...>" from after the "<"; quoted strings inside may contain ">". */
function readAngle(input: string, start: number): [string, number] {
  let i = start;
  let quoted = false;
  for (; i < input.length; i++) {
    const ch = input[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === '>' && !quoted) break;
  }
  return [input.slice(start, i).trim(), i + 1];
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
    } else if (ch === '"') {
      const [value, next] = readQuoted(input, i + 1);
      tokens.push({ type: 'quoted', value });
      i = next;
    } else if (ch === '(') {
      const [value, next] = readComment(input, i + 1);
      tokens.push({ type: 'comment', value });
      i = next;
    } else if (ch === '<') {
      const [value, next] = readAngle(input, i + 1);
      tokens.push({ type: 'angle', value });
      i = next;
    } else if (ch === ',' || ch === ':' || ch === ';') {
      tokens.push({ type: ch, value: ch });
      i++;
    } else {
      let end = i;
      while (end < input.length && !ATOM_END.test(input[end]!)) {
        // A domain literal ("[IPv6:::1]") may hold colons.
        if (input[end] === '[') {
          const close = input.indexOf(']', end);
          end = close === -1 ? input.length : close + 1;
        } else end++;
      }
      tokens.push({ type: 'atom', value: input.slice(i, end) });
      i = end;
    }
  }
  return tokens;
}

function phrase(tokens: readonly Token[]): string {
  return tokens
    .filter((t) => t.type === 'atom' || t.type === 'quoted')
    .map((t) => t.value)
    .join(' ');
}

function quoteLocal(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function toMailbox(tokens: readonly Token[]): ParsedMailbox | undefined {
  if (tokens.length === 0) return undefined;
  const comments = tokens.filter((t) => t.type === 'comment').map((t) => t.value.trim());
  const angle = tokens.findIndex((t) => t.type === 'angle');
  if (angle !== -1) {
    // An obsolete source route ("<@relay:user@host>", RFC 5322 §4.4) is dropped.
    const address = tokens[angle]!.value.replace(/^@[^:]*:/, '');
    const name = phrase(tokens.slice(0, angle)) || comments.join(' ');
    return { name, address };
  }
  const address = tokens
    .filter((t) => t.type === 'atom' || t.type === 'quoted')
    .map((t) => (t.type === 'quoted' ? quoteLocal(t.value) : t.value))
    .join('');
  return { name: comments.join(' '), address };
}

/**
 * Splits an address list into mailboxes and groups. Does not validate the addresses.
 *
 * @example parseAddressList('"Smith, Bob" <bob@example.com>, ann@example.com (Ann)')
 * // => [{ name: 'Smith, Bob', address: 'bob@example.com' }, { name: 'Ann', address: 'ann@example.com' }]
 */
export function parseAddressList(input: string): (ParsedMailbox | ParsedGroup)[] {
  const trimmed = input.trim();
  if (SIMPLE.test(trimmed)) return [{ name: '', address: trimmed }];
  const out: (ParsedMailbox | ParsedGroup)[] = [];
  let current: Token[] = [];
  let group: { name: string; group: ParsedMailbox[] } | undefined;
  const flush = (): void => {
    const mailbox = toMailbox(current);
    current = [];
    if (!mailbox) return;
    if (group) group.group.push(mailbox);
    else out.push(mailbox);
  };
  for (const token of tokenize(trimmed)) {
    if (token.type === ',') flush();
    else if (token.type === ':' && !group && !current.some((t) => t.type === 'angle')) {
      group = { name: phrase(current), group: [] };
      current = [];
    } else if (token.type === ';' && group) {
      flush();
      out.push(group);
      group = undefined;
    } else current.push(token);
  }
  flush();
  if (group) out.push(group);
  return out;
}
