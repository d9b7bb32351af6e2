/**
 * What `postern` assumes when nothing is said: the local `postern serve` with its default data folder.
 * One place, so `send`, `users`, `serve` and `demo` agree on ports and paths.
 */
import { join } from 'node:path';

/** The folder `postern serve` keeps its certificate, users and Maildir in (relative to the working directory). */
export const DEFAULT_DATA_DIR = 'postern-data';

/** `postern serve` with no arguments: STARTTLS on 127.0.0.1:2525, implicit TLS on 127.0.0.1:2465. */
export const LOCAL_SERVER = {
  host: '127.0.0.1',
  starttlsPort: 2525,
  implicitPort: 2465,
} as const;

/** The local CA of the auto certificate (src/tls/auto-certificate.ts: DATADIR/tls/ca.pem is the trust anchor). */
export function localCaFile(dataDir = DEFAULT_DATA_DIR): string {
  return join(dataDir, 'tls', 'ca.pem');
}

/** The users file `postern users` edits and `postern serve` reads by default. */
export function defaultUsersFile(dataDir = DEFAULT_DATA_DIR): string {
  return join(dataDir, 'users');
}

/** Messages at least this large get a progress bar on a terminal. */
export const PROGRESS_THRESHOLD = 1024 * 1024;

/** The Maildir `postern serve` stores accepted messages in. */
export function defaultMaildir(dataDir = DEFAULT_DATA_DIR): string {
  return join(dataDir, 'Maildir');
}

/** The user `postern serve` creates, with a random password, when its default users file does not exist. */
export const TEST_USER = 'test';

/** How long `postern serve` lets transactions in flight finish after SIGTERM/SIGINT before cutting them. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
