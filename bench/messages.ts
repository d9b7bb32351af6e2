/**
 * The messages the benchmarks send: a small one of an exact size, and a large one generated on the fly as a
 * stream of 76-character ASCII lines, so no client (nor the generator) ever holds it whole.
 */
import { Readable } from 'node:stream';

export const FROM = 'sender@example.test';
export const TO = 'rcpt@example.test';

const LINE_TEXT = 76;
const LINE = LINE_TEXT + 2;
const CHUNK = 64 * 1024;

function headers(subject: string): string {
  return (
    `From: Bench Sender <${FROM}>\r\n` +
    `To: <${TO}>\r\n` +
    `Subject: ${subject}\r\n` +
    'Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n' +
    'Message-ID: <bench@example.test>\r\n' +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=us-ascii\r\n' +
    'Content-Transfer-Encoding: 7bit\r\n' +
    '\r\n'
  );
}

/** A 76-character line of printable ASCII that never starts with "." (so no dot-stuffing is needed). */
function lineText(n: number): string {
  let text = '';
  for (let i = 0; text.length < LINE_TEXT; i++) text += String.fromCharCode(33 + ((n + i * 7) % 94));
  return text.replace(/^\./, '-');
}

/** A complete RFC 5322 message of exactly `size` bytes (headers and CRLF-terminated body lines). */
export function smallMessage(size: number): string {
  const head = headers('Benchmark message');
  let body = '';
  for (let n = 0; head.length + body.length + LINE <= size; n++) body += `${lineText(n)}\r\n`;
  const rest = size - head.length - body.length;
  if (rest >= 3) body += `${'x'.repeat(rest - 2)}\r\n`;
  const message = head + body;
  if (message.length !== size) throw new Error(`cannot build a message of exactly ${size} bytes`);
  return message;
}

/** The body repeats every LINE lines (PERIOD bytes); any chunk-sized window of it is a slice of TEMPLATE. */
const PERIOD = LINE * LINE;
const TEMPLATE = Buffer.from(
  Array.from({ length: Math.ceil((PERIOD + CHUNK) / LINE) }, (_, n) => `${lineText(n % LINE)}\r\n`).join(''),
  'latin1',
);

/** The exact size of largeMessage(approxBytes): headers plus as many whole lines as fit. */
export function largeMessageSize(approxBytes: number): number {
  const head = Buffer.byteLength(headers('Large benchmark message'));
  return head + Math.floor((approxBytes - head) / LINE) * LINE;
}

/**
 * A message of about `approxBytes` as a Readable of fresh 64 KiB Buffers (each chunk is its own allocation,
 * so a client that keeps chunks shows it in its memory figure).
 */
export function largeMessage(approxBytes: number): Readable {
  const head = Buffer.from(headers('Large benchmark message'), 'latin1');
  const bodySize = largeMessageSize(approxBytes) - head.length;
  let sent = -1;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent < 0) {
        sent = 0;
        this.push(head);
        return;
      }
      if (sent >= bodySize) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, bodySize - sent);
      const offset = sent % PERIOD;
      const chunk = Buffer.allocUnsafe(size);
      TEMPLATE.copy(chunk, 0, offset, offset + size);
      sent += size;
      this.push(chunk);
    },
  });
}
