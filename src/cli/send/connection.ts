/**
 * Where and how `postern send` connects: flags, then the account named by --account, then the environment
 * (POSTERN_SERVER, POSTERN_USER, POSTERN_PASSWORD), then the config file's default account — and with no
 * server anywhere, the local `postern serve` (STARTTLS on 127.0.0.1:2525, trusting its auto CA).
 */
import { existsSync } from 'node:fs';
import { parseSmtpUrl, type TransportOptions } from '../../client/index.js';
import { Secret } from '../../core/index.js';
import type { Credentials } from '../../sasl/index.js';
import { isTlsMode, type TlsMode } from '../../tls/index.js';
import { CliError } from '../cli-error.js';
import { type AccountSettings, urlHasPassword } from '../config.js';
import { LOCAL_SERVER, localCaFile } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import { lookup } from '../lookup.js';
import type { Output } from '../output.js';
import { readPassword } from '../password.js';
import { firstLineOf } from '../shell.js';
import { readInputFile } from './message.js';

/** The connection flags of `postern send`: the account settings a flag can override, plus a few of its own. */
export interface ConnectionFlags
  extends Pick<
    AccountSettings,
    | 'host'
    | 'port'
    | 'tls'
    | 'user'
    | 'passwordEnv'
    | 'passwordFile'
    | 'passwordCmd'
    | 'auth'
    | 'oauthTokenCmd'
    | 'ca'
    | 'insecure'
    | 'pin'
    | 'minTls'
    | 'clientCert'
    | 'clientKey'
    | 'timeout'
  > {
  /** A URL given as a flag; kept in the config as a Secret because it may hold a password. */
  readonly server?: string | undefined;
  readonly servername?: string | undefined;
  readonly ehlo?: string | undefined;
  readonly retries?: number | undefined;
}

export interface Connection {
  readonly options: TransportOptions;
  /** True when no server was named anywhere and the local `postern serve` default is used. */
  readonly localDefault: boolean;
}

/** The settings layers in priority order: the explicit account outranks the environment, the default does not. */
export function settingsLayers(
  account: AccountSettings,
  explicitAccount: boolean,
  env: NodeJS.ProcessEnv,
): AccountSettings[] {
  const fromEnv: AccountSettings = {
    ...(env['POSTERN_SERVER'] ? { server: new Secret(env['POSTERN_SERVER']) } : {}),
    ...(env['POSTERN_USER'] ? { user: env['POSTERN_USER'] } : {}),
    ...(env['POSTERN_PASSWORD'] ? { password: new Secret(env['POSTERN_PASSWORD']) } : {}),
  };
  return explicitAccount ? [account, fromEnv] : [fromEnv, account];
}

/** The first layer's value for `key`. */
export function first<K extends keyof AccountSettings>(
  layers: readonly AccountSettings[],
  key: K,
): AccountSettings[K] {
  for (const layer of layers) if (layer[key] !== undefined) return layer[key];
  return undefined;
}

const MIN_TLS: Readonly<Record<string, 'TLSv1.2' | 'TLSv1.3'>> = {
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
};

/** Transport options for the flags and settings; reads the password (maybe prompting) only when AUTH is needed. */
export async function resolveConnection(
  flags: ConnectionFlags,
  layers: readonly AccountSettings[],
  o: { env: NodeJS.ProcessEnv; output: Output },
): Promise<Connection> {
  if (flags.server !== undefined && urlHasPassword(flags.server)) {
    throw new CliError(
      EXIT.USAGE,
      '--server must not contain a password: every user of this machine can read the command line',
      {
        hint: 'drop ":password" from the URL and use --password-env VAR, --password-file FILE or --password-cmd',
      },
    );
  }
  if (flags.tls !== undefined && !isTlsMode(flags.tls)) {
    throw new CliError(EXIT.USAGE, `--tls ${flags.tls}: use implicit, starttls, opportunistic or none`);
  }
  // Where to connect comes as a unit from one place: the first of the flags and the layers that names a server
  // or a host. A URL's credentials must never go to a host named somewhere else.
  const flagTarget: AccountSettings = {
    server: flags.server === undefined ? undefined : new Secret(flags.server),
    host: flags.host,
  };
  const target = [flagTarget, ...layers].find((l) => l.server !== undefined || l.host !== undefined) ?? {};
  const serverText = target.server?.reveal();
  const host = target.host;
  const port = flags.port ?? target.port;
  const tlsText = flags.tls ?? target.tls;
  if (tlsText !== undefined && !isTlsMode(tlsText)) {
    throw new CliError(EXIT.CONFIG, `tls = "${tlsText}": use implicit, starttls, opportunistic or none`);
  }
  const localDefault = serverText === undefined && host === undefined;

  let base: TransportOptions;
  if (serverText !== undefined) {
    try {
      base = parseSmtpUrl(serverText);
    } catch (err) {
      throw new CliError(
        flags.server !== undefined ? EXIT.USAGE : EXIT.CONFIG,
        (err as Error).message.split(' — ')[0]!,
        {
          hint: 'a server URL looks like smtps://mail.example.com (implicit TLS, 465) or smtp://mail.example.com:587 (STARTTLS)',
          cause: err,
        },
      );
    }
  } else {
    base = { host: host ?? LOCAL_SERVER.host };
  }
  const mode = tlsText as TlsMode | undefined;
  let tls: TlsMode;
  let effectivePort: number;
  if (serverText !== undefined) {
    // The URL's scheme (or ?tls=) says the mode; a port given elsewhere only moves it.
    tls = mode ?? base.tls ?? 'starttls';
    effectivePort = port ?? base.port ?? 587;
  } else if (localDefault) {
    effectivePort = port ?? (mode === 'implicit' ? LOCAL_SERVER.implicitPort : LOCAL_SERVER.starttlsPort);
    tls = mode ?? (effectivePort === LOCAL_SERVER.implicitPort ? 'implicit' : 'starttls');
  } else {
    tls = mode ?? (port === 465 ? 'implicit' : 'starttls');
    effectivePort = port ?? (tls === 'implicit' ? 465 : 587);
  }

  const tlsOptions = await resolveTls(flags, layers, localDefault, o.output);
  const auth = await resolveAuth(flags, layers, base, o.env);
  const seconds = flags.timeout ?? first(layers, 'timeout');
  const ms = seconds !== undefined ? Math.max(1, Math.round(seconds * 1000)) : undefined;
  const authMethod = flags.auth ?? first(layers, 'auth') ?? base.authMethod;
  const options: TransportOptions = {
    ...base,
    host: host ?? base.host,
    port: effectivePort,
    tls,
    tlsOptions: { ...base.tlsOptions, ...tlsOptions },
    auth,
    ...(authMethod !== undefined ? { authMethod } : {}),
    ...(flags.ehlo !== undefined ? { name: flags.ehlo } : {}),
    ...(ms !== undefined ? { timeouts: { connect: ms, greeting: ms, tls: ms, command: ms } } : {}),
    pool: false,
    retry: flags.retries ? { retries: flags.retries, minDelay: 1000 } : false,
    lookup,
  };
  return { options, localDefault };
}

async function resolveTls(
  flags: ConnectionFlags,
  layers: readonly AccountSettings[],
  localDefault: boolean,
  output: Output,
): Promise<NonNullable<TransportOptions['tlsOptions']>> {
  const caFile =
    flags.ca ??
    first(layers, 'ca') ??
    (localDefault && existsSync(localCaFile()) ? localCaFile() : undefined);
  const insecure = flags.insecure === true || first(layers, 'insecure') === true;
  const pins = flags.pin?.length ? flags.pin : (first(layers, 'pin') ?? []);
  const minText = flags.minTls ?? first(layers, 'minTls');
  const minVersion = minText === undefined ? undefined : MIN_TLS[minText];
  if (minText !== undefined && minVersion === undefined) {
    throw new CliError(EXIT.USAGE, `--min-tls ${minText}: use 1.2 or 1.3`, {
      hint: 'TLS 1.0 and 1.1 are deprecated (RFC 8996) and not offered by postern send',
    });
  }
  const certFile = flags.clientCert ?? first(layers, 'clientCert');
  const keyFile = flags.clientKey ?? first(layers, 'clientKey');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new CliError(
      EXIT.USAGE,
      'a client certificate needs both --client-cert FILE and --client-key FILE',
    );
  }
  if (insecure) {
    output.warn(
      `--insecure: the server's certificate is NOT verified — not who issued it, not its dates, not the host name. ` +
        `Anyone on the network path can pose as the server and read or change this session, password included.` +
        (pins.length > 0 ? ' The --pin is still checked, which does identify the server.' : ''),
    );
  }
  return {
    ...(caFile !== undefined ? { ca: await readInputFile(caFile, 'CA file') } : {}),
    ...(insecure ? { insecureSkipVerify: true } : {}),
    ...(pins.length > 0 ? { pin: [...pins] } : {}),
    ...(minVersion !== undefined ? { minVersion } : {}),
    ...(certFile !== undefined ? { cert: await readInputFile(certFile, 'client certificate') } : {}),
    ...(keyFile !== undefined ? { key: await readInputFile(keyFile, 'client key') } : {}),
    ...(flags.servername !== undefined ? { servername: flags.servername } : {}),
  };
}

async function resolveAuth(
  flags: ConnectionFlags,
  layers: readonly AccountSettings[],
  base: TransportOptions,
  env: NodeJS.ProcessEnv,
): Promise<Credentials | undefined> {
  const urlAuth = base.auth;
  const user = flags.user ?? first(layers, 'user') ?? urlAuth?.user;
  const tokenCmd = flags.oauthTokenCmd ?? first(layers, 'oauthTokenCmd');
  const passwordFlags = {
    passwordEnv: flags.passwordEnv,
    passwordFile: flags.passwordFile,
    passwordCmd: flags.passwordCmd,
  };
  const anyPasswordFlag = Object.values(passwordFlags).some((v) => v !== undefined);
  if (user === undefined) {
    if (anyPasswordFlag || tokenCmd !== undefined) {
      throw new CliError(EXIT.USAGE, 'a password or token was given but no user: add --user NAME');
    }
    return undefined;
  }
  if (tokenCmd !== undefined) {
    if (anyPasswordFlag)
      throw new CliError(EXIT.USAGE, 'give --oauth-token-cmd or a password source, not both');
    // Asked again with refresh: true when the server rejects the first token.
    return {
      user,
      accessToken: async () => (await firstLineOf(tokenCmd, '--oauth-token-cmd')).reveal(),
    };
  }
  const urlPass =
    urlAuth && 'pass' in urlAuth && urlAuth.user === user ? Secret.from(urlAuth.pass) : undefined;
  const fallback = {
    passwordEnv: first(layers, 'passwordEnv'),
    passwordFile: first(layers, 'passwordFile'),
    passwordCmd: first(layers, 'passwordCmd'),
    password: first(layers, 'password') ?? (urlPass && urlPass.length > 0 ? urlPass : undefined),
  };
  const pass = await readPassword(passwordFlags, fallback, { env, prompt: `Password for ${user}: ` });
  return { user, pass: pass! };
}
