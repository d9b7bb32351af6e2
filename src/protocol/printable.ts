/**
 * Showing untrusted text (server replies, caller input) in error messages and logs.
 * Text from a peer can carry ANSI escapes, CR/LF or bidi overrides that rewrite a terminal or a log line,
 * so every such character is shown as an escape sequence instead.
 */

const NAMED: Readonly<Record<string, string>> = {
  '\r': '\\r',
  '\n': '\\n',
  '\t': '\\t',
  '\0': '\\0',
  '"': '\\"',
  '\\': '\\\\',
};

// C0, DEL, C1, line/paragraph separators and the bidi controls that can reorder what a reader sees.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_QUOTE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"\\]/;

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Replaces control characters with escapes, keeping everything else as it is.
 *
 * @example escapeControls('ok\x1b[2J') // => 'ok\\x1b[2J'
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/**
 * Returns `text` in double quotes with control characters, quotes and backslashes escaped, cut to at
 * most `max` characters of escaped content (then ending in "…").
 *
 * @example printable('250 ok\r\n') // => '"250 ok\\r\\n"'
 */
export function printable(text: string, max = 80): string {
  let out = '';
  for (const ch of text) {
    const piece = CONTROL_OR_QUOTE.test(ch) ? escapeChar(ch) : ch;
    if (out.length + piece.length > max) return `"${out}…"`;
    out += piece;
  }
  return `"${out}"`;
}
