/**
 * Short transcripts for the demo: every protocol line as formatTranscriptEvent prints it (AUTH payloads are
 * already redacted by the client), except that the continuation lines of a multi-line reply (the EHLO list)
 * are folded into one line of keywords and long SASL challenges are cut, so four sessions fit on a screen.
 */
import { formatTranscriptEvent, type TranscriptEvent } from '../../core/index.js';

const CONTINUATION = /^(\d{3})-(.*)$/;
/** A SASL challenge: its base64 is not secret (SCRAM's nonce and salt) but too long to be worth reading. */
const CHALLENGE = /^334 ([A-Za-z0-9+/=]{40,})$/;
const LAST_LINE = /^(\d{3})(?: (.*))?$/;

/** The lines to print for one session's events; times count from the first event. */
export function shortTranscript(events: readonly TranscriptEvent[]): string[] {
  const start = events[0]?.time ?? 0;
  const lines: string[] = [];
  let folded: { first: TranscriptEvent; keywords: string[] } | undefined;
  for (const event of events) {
    if (event.type === 'line' && event.direction === 'in') {
      const more = CONTINUATION.exec(event.line);
      if (more) {
        if (!folded) {
          folded = { first: event, keywords: [] };
          lines.push(formatTranscriptEvent(event, start));
        } else {
          folded.keywords.push(more[2] ?? '');
        }
        continue;
      }
      const challenge = CHALLENGE.exec(event.line);
      if (challenge) {
        const payload = challenge[1]!;
        const line = `334 ${payload.slice(0, 24)}… (${payload.length} characters of base64)`;
        lines.push(formatTranscriptEvent({ ...event, line }, start));
        continue;
      }
      const last = LAST_LINE.exec(event.line);
      if (folded && last) {
        folded.keywords.push(last[2] ?? '');
        const count = folded.keywords.length;
        const summary = {
          ...event,
          line: `${last[1]} [${count} more line${count === 1 ? '' : 's'}] ${folded.keywords.join(' · ')}`,
        };
        lines.push(formatTranscriptEvent(summary, start));
        folded = undefined;
        continue;
      }
    }
    lines.push(formatTranscriptEvent(event, start));
  }
  return lines;
}
