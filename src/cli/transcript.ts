/**
 * `-v`: the whole SMTP conversation on stderr, one line per protocol line, with the time since the start,
 * the direction (→ client to server, ← server to client) and a lock once TLS is on. The client redacts AUTH
 * payloads before any event is made, so nothing secret can reach this printer.
 */
import type { TranscriptEvent, TranscriptListener } from '../core/index.js';
import type { Output } from './output.js';

/** Returns a transcript listener that prints to the output's stderr; times count from `start`. */
export function transcriptPrinter(output: Output, start = Date.now()): TranscriptListener {
  const s = output.err;
  return (event: TranscriptEvent) => {
    const t = s.dim(`${((event.time - start) / 1000).toFixed(3).padStart(7)}s`);
    switch (event.type) {
      case 'line': {
        const lock = event.tls ? '🔒' : '  ';
        const line =
          event.direction === 'out'
            ? `${s.cyan('→')} ${lock} ${s.cyan(event.line)}`
            : `${s.green('←')} ${lock} ${colourReply(event.line, s)}`;
        output.note(`${t} ${line}`);
        break;
      }
      case 'data':
        output.note(
          `${t} ${s.cyan('→')} ${event.tls ? '🔒' : '  '} ${s.dim(`[${formatBytes(event.bytes)} of message data]`)}`,
        );
        break;
      case 'connect':
        output.note(`${t} ${s.dim('·')}    connected to ${event.host} (${event.address}) port ${event.port}`);
        break;
      case 'tls':
        output.note(
          `${t} ${s.dim('·')}    TLS established: ${event.version} ${event.cipher}${event.resumed ? ' (resumed)' : ''}`,
        );
        break;
      case 'close':
        output.note(`${t} ${s.dim('·')}    connection closed${event.reason ? `: ${event.reason}` : ''}`);
        break;
    }
  };
}

function colourReply(line: string, s: Output['err']): string {
  const code = line.charCodeAt(0);
  if (code === 0x34) return s.yellow(line); // 4xx
  if (code === 0x35) return s.red(line); // 5xx
  return line;
}

/** "512 B", "1.5 KB", "12.0 MB" (decimal units, as in the progress bar). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} KB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}
