/** Reading a client transcript in tests. */
import type { TranscriptEvent } from '../../src/index.js';

/**
 * The lines the client wrote after the reply to its last EHLO and before the next reply came in: the first
 * pipelined group of the session (e.g. AUTH, MAIL, RCPT, DATA when AUTH rides with the first message).
 */
export function firstGroupAfterEhlo(events: readonly TranscriptEvent[]): string[] {
  const lines = events.filter((e) => e.type === 'line');
  const ehlo = lines.findLastIndex((e) => e.direction === 'out' && e.line.startsWith('EHLO'));
  const answered = lines.findIndex((e, i) => i > ehlo && e.direction === 'in' && /^\d{3} /.test(e.line));
  const group: string[] = [];
  for (const e of lines.slice(answered + 1)) {
    if (e.direction === 'in') break;
    group.push(e.line);
  }
  return group;
}

/** The command verbs of `firstGroupAfterEhlo`. */
export function firstGroupVerbs(events: readonly TranscriptEvent[]): string[] {
  return firstGroupAfterEhlo(events).map((line) => line.split(' ')[0]!);
}
