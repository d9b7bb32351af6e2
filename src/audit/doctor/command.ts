/**
 * The `postern send` command line that matches what `postern doctor` found to work, quoted for a POSIX shell.
 */
import type { SessionMode } from './steps.js';

export interface WorkingSettings {
  readonly host: string;
  readonly port: number;
  readonly tls: SessionMode;
  readonly servername?: string | undefined;
  /** The --ca file the doctor was given (the path as the user wrote it). */
  readonly caFile?: string | undefined;
  readonly user?: string | undefined;
  /** The password flags the user gave, e.g. ["--password-env", "SMTP_PASS"]; none means send asks for it. */
  readonly passwordArgs?: readonly string[] | undefined;
  readonly from?: string | undefined;
  readonly to?: readonly string[] | undefined;
}

const SAFE = /^[A-Za-z0-9@%+=:,./_-]+$/;

/** Quotes one argument for /bin/sh when it needs it. */
export function shellWord(word: string): string {
  return SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command as an argument list (without "postern") and as one shell line.
 *
 * @example sendCommand({ host: 'mail.example.com', port: 465, tls: 'implicit', user: 'me' }).line
 */
export function sendCommand(w: WorkingSettings): {
  readonly args: readonly string[];
  readonly line: string;
  /** The addresses are examples (no --from or --to was given): put in real ones. */
  readonly placeholders: boolean;
} {
  const args = ['send', '--host', w.host, '--port', String(w.port), '--tls', w.tls];
  if (w.caFile !== undefined) args.push('--ca', w.caFile);
  if (w.servername !== undefined) args.push('--servername', w.servername);
  if (w.user !== undefined) args.push('--user', w.user, ...(w.passwordArgs ?? []));
  args.push('--from', w.from ?? 'you@example.com');
  for (const to of w.to?.length ? w.to : ['someone@example.org']) args.push('--to', to);
  args.push(
    '--subject',
    'postern doctor test',
    '--text',
    'This message was sent with the settings postern doctor found.',
  );
  const placeholders = w.from === undefined || !w.to?.length;
  return { args, line: `postern ${args.map(shellWord).join(' ')}`, placeholders };
}
