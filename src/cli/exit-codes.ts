/**
 * Exit codes, from sysexits.h where it has one, so scripts can tell "retry later" (75) from "fix something" (the
 * rest). Partial delivery has no sysexits code: 79 is the first number after the sysexits range (EX__MAX = 78).
 */
import { type ErrorCode, isPosternError } from '../core/index.js';
import { CliError } from './cli-error.js';

export const EXIT = {
  /** Sent to every recipient (or the command did what it was asked). */
  OK: 0,
  /** EX_USAGE: a flag or argument is wrong. */
  USAGE: 64,
  /** EX_DATAERR: the message cannot be composed (bad address, header injection, …). */
  DATA: 65,
  /** EX_NOINPUT: an input file (attachment, body, CA, key, password file) does not exist or cannot be read. */
  NO_INPUT: 66,
  /** EX_NOUSER: `users remove` of a user the file does not have. */
  NO_USER: 67,
  /** EX_NOHOST: the server's host name does not resolve. */
  NO_HOST: 68,
  /** EX_UNAVAILABLE: connection refused, or a permanent (5xx) rejection. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: a bug in postern (an error that is not a PosternError). */
  SOFTWARE: 70,
  /** EX_CANTCREAT: an output file cannot be written (or exists, without --force). */
  CANT_CREATE: 73,
  /** EX_IOERR: reading or writing a file failed (permissions, a full disk). */
  IO_ERROR: 74,
  /** EX_TEMPFAIL: a temporary failure (4xx, timeout, lost connection): retrying later may work. */
  TEMPORARY: 75,
  /** EX_PROTOCOL: the server broke the SMTP or TLS protocol. */
  PROTOCOL: 76,
  /** EX_NOPERM: authentication failed, or the server's certificate is not trusted. */
  NO_PERMISSION: 77,
  /** EX_CONFIG: a configuration problem (config file, wrong TLS mode for the port, …). */
  CONFIG: 78,
  /** Not in sysexits: the server accepted the message for some recipients and rejected others. */
  PARTIAL: 79,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table printed by `--help` and written in docs/cli.md. */
export const EXIT_CODE_TABLE: readonly (readonly [ExitCode, string])[] = [
  [EXIT.OK, 'sent to every recipient'],
  [EXIT.USAGE, 'usage: a wrong flag or argument'],
  [EXIT.DATA, 'bad message data (address, header)'],
  [EXIT.NO_INPUT, 'an input file is missing or unreadable'],
  [EXIT.NO_USER, 'no such user (users remove)'],
  [EXIT.NO_HOST, 'host not found'],
  [EXIT.UNAVAILABLE, 'unavailable: connection refused or permanent 5xx rejection'],
  [EXIT.SOFTWARE, 'internal error (a bug: please report it with --debug output)'],
  [EXIT.CANT_CREATE, 'cannot create an output file'],
  [EXIT.IO_ERROR, 'a file could not be read or written'],
  [EXIT.TEMPORARY, 'temporary failure (4xx, timeout): retry later'],
  [EXIT.PROTOCOL, 'protocol error by the server'],
  [EXIT.NO_PERMISSION, 'authentication failed or certificate not trusted'],
  [EXIT.CONFIG, 'configuration error'],
  [EXIT.PARTIAL, 'partial delivery: some recipients rejected'],
];

const BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  EINVALID_ARGUMENT: EXIT.USAGE,
  ECOMMAND_INJECTION: EXIT.DATA,
  EADDRESS_INVALID: EXIT.DATA,
  ESMTPUTF8_REQUIRED: EXIT.DATA,
  ESIZE_EXCEEDED: EXIT.DATA,
  ECONFIG: EXIT.CONFIG,
  ECONNREFUSED: EXIT.UNAVAILABLE,
  ECONNECT_TIMEOUT: EXIT.TEMPORARY,
  ECONNECTION: EXIT.TEMPORARY,
  ECONNECTION_CLOSED: EXIT.TEMPORARY,
  ETIMEOUT: EXIT.TEMPORARY,
  ETLS_PLAINTEXT_PORT: EXIT.CONFIG,
  ETLS_CERT_UNTRUSTED: EXIT.NO_PERMISSION,
  ETLS_CERT_SELF_SIGNED: EXIT.NO_PERMISSION,
  ETLS_CERT_EXPIRED: EXIT.NO_PERMISSION,
  ETLS_CERT_NOT_YET_VALID: EXIT.NO_PERMISSION,
  ETLS_CERT_NAME_MISMATCH: EXIT.NO_PERMISSION,
  ETLS_PIN_MISMATCH: EXIT.NO_PERMISSION,
  ETLS: EXIT.PROTOCOL,
  ETLS_HANDSHAKE: EXIT.PROTOCOL,
  ETLS_VERSION: EXIT.PROTOCOL,
  EPROTOCOL: EXIT.PROTOCOL,
  EREPLY_TOO_LONG: EXIT.PROTOCOL,
  ESTARTTLS_INJECTION: EXIT.PROTOCOL,
  ESTARTTLS_UNAVAILABLE: EXIT.UNAVAILABLE,
  ESMTP_UNSUPPORTED: EXIT.UNAVAILABLE,
  EREQUIRETLS_UNSUPPORTED: EXIT.UNAVAILABLE,
  EAUTH_FAILED: EXIT.NO_PERMISSION,
  EAUTH_APP_PASSWORD: EXIT.NO_PERMISSION,
  EAUTH_UNSUPPORTED: EXIT.NO_PERMISSION,
  EAUTH_ENCRYPTION_REQUIRED: EXIT.NO_PERMISSION,
  EAUTH_SERVER_SIGNATURE: EXIT.NO_PERMISSION,
  EAUTH_PLAINTEXT: EXIT.CONFIG,
  EAUTH_TEMPORARY: EXIT.TEMPORARY,
  EAUTH_PROTOCOL: EXIT.PROTOCOL,
  ETRANSPORT_CLOSED: EXIT.SOFTWARE,
};

/**
 * The exit code for an error. Codes whose meaning depends on the server's answer (a DNS failure, a rejection)
 * are decided by `transient`: a 4xx or a DNS timeout is worth retrying (75), a 5xx or NXDOMAIN is not.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (isSystemError(err)) return err.code === 'ENOENT' ? EXIT.NO_INPUT : EXIT.IO_ERROR;
  if (!isPosternError(err)) return EXIT.SOFTWARE;
  switch (err.code) {
    case 'EDNS':
      return err.transient ? EXIT.TEMPORARY : EXIT.NO_HOST;
    case 'ESMTP_REJECTED':
    case 'ENO_RECIPIENTS':
    case 'ESTARTTLS_FAILED':
      return err.transient ? EXIT.TEMPORARY : EXIT.UNAVAILABLE;
    case 'EABORTED':
      return EXIT.TEMPORARY;
  }
  return BY_CODE[err.code] ?? (err.transient ? EXIT.TEMPORARY : EXIT.UNAVAILABLE);
}

/** An error from the operating system about a file (it has an errno code and a syscall). */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  const e = err as NodeJS.ErrnoException | undefined;
  return (
    e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string' && !isPosternError(e)
  );
}
