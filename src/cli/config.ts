/**
 * The config file: named accounts as msmtp has them, in TOML.
 *
 *     default = "work"                 # the account used without --account
 *
 *     [defaults]                       # settings every account starts from
 *     ca = "~/certs/company-ca.pem"
 *
 *     [accounts.work]
 *     server = "smtps://smtp.example.com"
 *     user = "me@example.com"
 *     password-cmd = "pass show mail/work"
 *     from = "Me <me@example.com>"
 *
 * Keys are the long flag names of `postern send`. Relative paths are relative to the file's folder; "~/" is the
 * home folder. A `password` key is accepted only when nobody else can read the file (mode 0600), as msmtp demands.
 * Error messages name the file, the line and the key, never a value: the value may be a secret.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { Secret } from '../core/index.js';
import { CliError } from './cli-error.js';
import { EXIT } from './exit-codes.js';

/** One account's settings; every field is optional and flags override them. */
export interface AccountSettings {
  readonly server?: Secret | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly tls?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: Secret | undefined;
  readonly passwordEnv?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly passwordCmd?: string | undefined;
  readonly auth?: string | undefined;
  readonly oauthTokenCmd?: string | undefined;
  readonly from?: string | undefined;
  readonly ca?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly pin?: readonly string[] | undefined;
  readonly minTls?: string | undefined;
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  readonly dkimKey?: string | undefined;
  readonly dkimSelector?: string | undefined;
  readonly dkimDomain?: string | undefined;
  readonly timeout?: number | undefined;
}

export interface LoadedConfig {
  /** The file read, or undefined when there is none. */
  readonly file: string | undefined;
  readonly accounts: ReadonlyMap<string, AccountSettings>;
  readonly defaultAccount: string | undefined;
}

type Kind = 'string' | 'path' | 'number' | 'boolean' | 'strings' | 'secret';

const KEYS: Readonly<Record<string, readonly [keyof AccountSettings, Kind]>> = {
  server: ['server', 'secret'],
  host: ['host', 'string'],
  port: ['port', 'number'],
  tls: ['tls', 'string'],
  user: ['user', 'string'],
  password: ['password', 'secret'],
  'password-env': ['passwordEnv', 'string'],
  'password-file': ['passwordFile', 'path'],
  'password-cmd': ['passwordCmd', 'string'],
  auth: ['auth', 'string'],
  'oauth-token-cmd': ['oauthTokenCmd', 'string'],
  from: ['from', 'string'],
  ca: ['ca', 'path'],
  insecure: ['insecure', 'boolean'],
  pin: ['pin', 'strings'],
  'min-tls': ['minTls', 'string'],
  'client-cert': ['clientCert', 'path'],
  'client-key': ['clientKey', 'path'],
  'dkim-key': ['dkimKey', 'path'],
  'dkim-selector': ['dkimSelector', 'string'],
  'dkim-domain': ['dkimDomain', 'string'],
  timeout: ['timeout', 'number'],
};

const EMPTY: LoadedConfig = { file: undefined, accounts: new Map(), defaultAccount: undefined };

/** `$XDG_CONFIG_HOME/postern/config.toml`, else `~/.config/postern/config.toml`. */
export function defaultConfigFile(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'postern', 'config.toml');
}

function configError(file: string, what: string, hint?: string): CliError {
  return new CliError(EXIT.CONFIG, `config file ${file}: ${what}`, {
    hint: hint ?? 'see `postern send --help` (Configuration) for the keys an account takes',
  });
}

/**
 * Reads the config file named by --config (which must exist) or the default one (which may be absent).
 *
 * @example const config = await loadConfig(undefined, process.env); selectAccount(config, 'work')
 */
export async function loadConfig(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<LoadedConfig> {
  const file = resolve(explicit ?? env['POSTERN_CONFIG'] ?? defaultConfigFile(env));
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit === undefined && env['POSTERN_CONFIG'] === undefined) return EMPTY;
    throw new CliError(
      code === 'ENOENT' ? EXIT.NO_INPUT : EXIT.CONFIG,
      code === 'ENOENT' ? `config file ${file} does not exist` : `cannot read config file ${file} (${code})`,
    );
  }
  let data: Record<string, unknown>;
  try {
    data = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      // Only the first line of the parser's message: the rest quotes the file, which may hold a password.
      const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
      throw configError(file, `line ${err.line} column ${err.column}: ${reason}`, 'the file must be TOML');
    }
    throw err;
  }
  const privateFile = (mode & 0o077) === 0;
  const base = dirname(file);
  const home = env['HOME'] || homedir();
  for (const key of Object.keys(data)) {
    if (key !== 'default' && key !== 'defaults' && key !== 'accounts') {
      throw configError(
        file,
        `unknown top-level key "${key}"`,
        'use default = "NAME", [defaults] and [accounts.NAME]',
      );
    }
  }
  const defaults =
    data['defaults'] === undefined
      ? {}
      : readAccount(data['defaults'], '[defaults]', { file, base, home, privateFile });
  const accounts = new Map<string, AccountSettings>();
  const table = data['accounts'] ?? {};
  if (!isTable(table)) throw configError(file, '"accounts" must be tables: [accounts.NAME]');
  for (const [name, value] of Object.entries(table)) {
    accounts.set(name, {
      ...defaults,
      ...readAccount(value, `[accounts.${name}]`, { file, base, home, privateFile }),
    });
  }
  const defaultAccount = data['default'];
  if (defaultAccount !== undefined && typeof defaultAccount !== 'string') {
    throw configError(file, '"default" must be the name of an account, in quotes');
  }
  if (defaultAccount !== undefined && !accounts.has(defaultAccount)) {
    throw configError(file, `default = "${defaultAccount}" names no [accounts.${defaultAccount}]`);
  }
  return {
    file,
    accounts,
    defaultAccount: defaultAccount ?? (accounts.has('default') ? 'default' : undefined),
  };
}

/** The account named by --account (which must exist), else the default account, else nothing. */
export function selectAccount(config: LoadedConfig, name: string | undefined): AccountSettings {
  if (name === undefined) {
    return config.defaultAccount === undefined ? {} : (config.accounts.get(config.defaultAccount) ?? {});
  }
  const account = config.accounts.get(name);
  if (account) return account;
  const known = [...config.accounts.keys()];
  throw new CliError(
    EXIT.CONFIG,
    config.file === undefined
      ? `no account "${name}": there is no config file`
      : `no account "${name}" in ${config.file}`,
    {
      hint: known.length
        ? `accounts there: ${known.join(', ')}`
        : `add [accounts.${name}] to ${config.file ?? '~/.config/postern/config.toml'}`,
    },
  );
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

interface ReadContext {
  readonly file: string;
  readonly base: string;
  readonly home: string;
  readonly privateFile: boolean;
}

function readAccount(value: unknown, where: string, c: ReadContext): AccountSettings {
  if (!isTable(value)) throw configError(c.file, `${where} must be a table`);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const spec = KEYS[key];
    if (!spec) {
      throw configError(
        c.file,
        `${where}: unknown key "${key}"`,
        `known keys: ${Object.keys(KEYS).join(', ')}`,
      );
    }
    const [field, kind] = spec;
    const bad = (expected: string) => configError(c.file, `${where}: "${key}" must be ${expected}`);
    switch (kind) {
      case 'string':
        if (typeof raw !== 'string') throw bad('a string');
        out[field] = raw;
        break;
      case 'path':
        if (typeof raw !== 'string') throw bad('a string (a file path)');
        out[field] = expandPath(raw, c);
        break;
      case 'number':
        if (typeof raw !== 'number' || !Number.isFinite(raw)) throw bad('a number');
        out[field] = raw;
        break;
      case 'boolean':
        if (typeof raw !== 'boolean') throw bad('true or false');
        out[field] = raw;
        break;
      case 'strings':
        if (typeof raw === 'string') out[field] = [raw];
        else if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) out[field] = raw;
        else throw bad('a string or a list of strings');
        break;
      case 'secret':
        if (typeof raw !== 'string') throw bad('a string');
        if ((key === 'password' || urlHasPassword(raw)) && !c.privateFile) {
          throw configError(
            c.file,
            `${where} has a password${key === 'server' ? ' in the server URL' : ''}, but other users may read the file`,
            `chmod 600 ${c.file}, or use password-cmd / password-file instead`,
          );
        }
        out[field] = new Secret(raw);
        break;
    }
  }
  return out as AccountSettings;
}

/** Whether a URL carries a password in its userinfo ("smtps://user:secret@host"). */
export function urlHasPassword(text: string): boolean {
  try {
    return new URL(text).password !== '';
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(text);
  }
}

function expandPath(path: string, c: ReadContext): string {
  if (path === '~') return c.home;
  if (path.startsWith('~/')) return join(c.home, path.slice(2));
  return isAbsolute(path) ? path : resolve(c.base, path);
}
