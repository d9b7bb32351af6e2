/**
 * Transcript events: every protocol line in and out, and TLS events, for `-v` output and debugging.
 * AUTH payloads are redacted before an event is created, so a listener can never see a secret.
 */

export type TranscriptDirection = 'in' | 'out';

export type TranscriptEvent =
  | {
      readonly type: 'line';
      readonly direction: TranscriptDirection;
      readonly line: string;
      readonly time: number;
      readonly tls: boolean;
    }
  | {
      readonly type: 'data';
      readonly direction: TranscriptDirection;
      readonly bytes: number;
      readonly time: number;
      readonly tls: boolean;
    }
  | {
      readonly type: 'connect';
      readonly host: string;
      readonly address: string;
      readonly port: number;
      readonly time: number;
    }
  | {
      readonly type: 'tls';
      readonly version: string;
      readonly cipher: string;
      readonly resumed: boolean;
      readonly time: number;
    }
  | { readonly type: 'close'; readonly time: number; readonly reason?: string | undefined };

export type TranscriptListener = (event: TranscriptEvent) => void;

/** A logger interface the library calls; the default does nothing. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Formats a transcript event as one readable line (as the CLI's -v prints it). */
export function formatTranscriptEvent(event: TranscriptEvent, start = 0): string {
  const t = `${((event.time - start) / 1000).toFixed(3)}s`;
  switch (event.type) {
    case 'line':
      return `${t} ${event.direction === 'out' ? '→' : '←'}${event.tls ? '🔒' : ' '} ${event.line}`;
    case 'data':
      return `${t} ${event.direction === 'out' ? '→' : '←'}${event.tls ? '🔒' : ' '} [${event.bytes} bytes of message data]`;
    case 'connect':
      return `${t} ·  connected to ${event.host} (${event.address}) port ${event.port}`;
    case 'tls':
      return `${t} ·  TLS established: ${event.version} ${event.cipher}${event.resumed ? ' (resumed)' : ''}`;
    case 'close':
      return `${t} ·  connection closed${event.reason ? `: ${event.reason}` : ''}`;
  }
}
