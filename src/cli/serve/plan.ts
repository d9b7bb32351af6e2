/**
 * From `postern serve` flags to what the server runs with: endpoints, certificates, files, limits — and the
 * refusals that protect people from their own command line (an unauthenticated server reachable from other
 * hosts, half a certificate pair).
 */
import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_LIMITS } from '../../server/index.js';
import type { ServerCertificateConfig } from '../../tls/index.js';
import { CliError } from '../cli-error.js';
import { defaultMaildir, defaultUsersFile } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import {
  connectableHost,
  defaultListen,
  formatListen,
  isLoopback,
  type ListenAddress,
} from './listen-address.js';

export interface ServeFlags {
  readonly listen?: readonly ListenAddress[];
  readonly cert?: string;
  readonly key?: string;
  readonly users?: string;
  readonly maildir?: string;
  readonly dataDir: string;
  readonly requireTls?: boolean;
  readonly requireAuth?: boolean;
  readonly allowOpenRelay?: boolean;
  readonly maxSize?: number;
  readonly jsonLogs?: boolean;
  readonly hostname?: string;
}

export interface ServePlan {
  readonly endpoints: readonly ListenAddress[];
  readonly dataDir: string;
  readonly usersFile: string;
  /** The users file is the data folder's default (so a missing one gets the test user). */
  readonly defaultUsersFile: boolean;
  readonly maildir: string;
  readonly tls: ServerCertificateConfig | 'auto';
  readonly certFile: string | undefined;
  /** Names the automatic certificate must cover. */
  readonly certificateNames: readonly string[];
  readonly requireTls: boolean;
  readonly requireAuth: boolean;
  readonly maxSize: number;
  readonly hostname: string;
  /** Endpoints other hosts can reach without AUTH being required (allowed only with --allow-open-relay). */
  readonly openEndpoints: readonly ListenAddress[];
}

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** os.hostname() when it can go in a greeting and a certificate, else "localhost". */
function machineName(): string {
  const name = osHostname();
  return HOST_NAME.test(name) ? name : 'localhost';
}

export function planServe(flags: ServeFlags): ServePlan {
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new CliError(EXIT.USAGE, '--cert and --key go together', {
      hint: 'give both (PEM files), or neither for the automatic certificate',
    });
  }
  if (flags.hostname !== undefined && !HOST_NAME.test(flags.hostname)) {
    throw new CliError(EXIT.USAGE, `--hostname ${JSON.stringify(flags.hostname)} is not a host name`);
  }
  const endpoints = flags.listen?.length ? flags.listen : defaultListen();
  const requireAuth = flags.requireAuth === true;
  const openEndpoints = requireAuth ? [] : endpoints.filter((e) => !isLoopback(e.host));
  if (openEndpoints.length > 0 && flags.allowOpenRelay !== true) {
    throw new CliError(
      EXIT.CONFIG,
      `refusing to accept mail without authentication on ${openEndpoints.map(formatListen).join(', ')}, ` +
        'which other hosts can reach: anyone could send mail through it (an open relay)',
      {
        hint: 'add --require-auth, listen on a loopback address (127.0.0.1, ::1), or --allow-open-relay if that is really meant',
      },
    );
  }
  const hostname = flags.hostname ?? machineName();
  const listenNames = endpoints
    .map((e) => connectableHost(e.host))
    .filter((host) => host !== '127.0.0.1' && host !== '::1' && host !== 'localhost');
  return {
    endpoints,
    dataDir: flags.dataDir,
    usersFile: flags.users ?? defaultUsersFile(flags.dataDir),
    defaultUsersFile: flags.users === undefined,
    maildir: flags.maildir ?? defaultMaildir(flags.dataDir),
    tls:
      flags.cert !== undefined && flags.key !== undefined
        ? { certFile: resolve(flags.cert), keyFile: resolve(flags.key) }
        : 'auto',
    certFile: flags.cert,
    certificateNames: [...new Set(['localhost', '127.0.0.1', '::1', hostname, ...listenNames])],
    requireTls: flags.requireTls === true,
    requireAuth,
    maxSize: flags.maxSize ?? DEFAULT_LIMITS.maxMessageSize,
    hostname,
    openEndpoints,
  };
}
