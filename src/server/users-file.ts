/**
 * The built-in users file: a SaslCredentialStore read from a text file that `postern users add` writes.
 *
 * Format: UTF-8, one user per line, fields separated by TAB; empty lines and lines starting with "#" are ignored.
 *
 *     name <TAB> verifier <TAB> verifier …
 *
 * `name` is stored SASLprep'd (RFC 4013), and each verifier is recognised by its prefix, at most one of each:
 *
 *     $scrypt$ln=15,r=8,p=1$<salt>$<hash>                        PLAIN and LOGIN (see password-hash.ts)
 *     SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>  SCRAM-SHA-256 and -PLUS (RFC 5803)
 *     SCRAM-SHA-1$<iterations>:<salt>$<StoredKey>:<ServerKey>    SCRAM-SHA-1 and -PLUS (RFC 5803)
 *     plain-for-cram-md5$<base64 of the password>                CRAM-MD5
 *
 * WARNING: `plain-for-cram-md5` is the password itself (base64 is an encoding, not protection). It is written only
 * when CRAM-MD5 is asked for when adding a user, because CRAM-MD5 cannot work from a hash. Anyone who can read
 * the file can then log in as that user, anywhere the password is reused. Without it, the file holds only
 * verifiers; keep it private anyway (it is written with mode 0600), since they allow offline guessing.
 *
 * Changes go to a temporary file in the same folder that is then renamed over the old one, so a reader (the
 * server reloading on SIGHUP) sees the old file or the new one, never half of one.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import {
  type SaslCredentialStore,
  type ScramHashName,
  type ScramStoredCredentials,
  saslprep,
} from '../sasl/index.js';
import {
  createScramStoredKey,
  DEFAULT_SCRYPT,
  hashPassword,
  parseScramStoredKey,
  parseScryptHash,
  type ScryptHash,
  verifyPasswordHash,
} from './password-hash.js';

export interface AddUserOptions {
  /** Also store the plaintext password, which CRAM-MD5 needs. Off by default; see the warning above. */
  readonly cramMd5?: boolean;
  /** scrypt's N (a power of two); the default is 2^15. Tests pass a small one to stay fast. */
  readonly scryptCost?: number;
}

export interface ListedUser {
  readonly name: string;
  /** What the user can authenticate with, strongest first (SCRAM also covers its -PLUS variant). */
  readonly mechanisms: string[];
}

interface UserRecord {
  readonly name: string;
  readonly scrypt?: ScryptHash;
  readonly scram: Partial<Record<ScramHashName, ScramStoredCredentials>>;
  readonly cramMd5?: Secret;
}

/** One line of the file as written, and the user it defines, if it is a user line. */
interface FileLine {
  readonly text: string;
  readonly user?: UserRecord;
}

const CRAM_MD5_PREFIX = 'plain-for-cram-md5$';
/** RFC 4616 §2: servers must accept names up to 255 octets; longer ones are refused when adding. */
const MAX_NAME_OCTETS = 255;
const HEADER = [
  '# Postern users file: one user per line, "name<TAB>verifier<TAB>…" (see src/server/users-file.ts).',
  '# Keep it private (mode 0600). Change it with `postern users add NAME` / `postern users remove NAME`.',
];

/**
 * Adds a user, or replaces one of the same (SASLprep'd) name, creating the file with mode 0600 if needed.
 * Throws InputError 'EINVALID_ARGUMENT' for a name or password that cannot be used, 'ECONFIG' if the file exists
 * but cannot be read as a users file (it is then left alone).
 * @example await addUser('users.txt', 'alice', new Secret('correct horse'))
 */
export async function addUser(
  file: string,
  name: string,
  password: Secret | string,
  options: AddUserOptions = {},
): Promise<void> {
  const user = validUserName(name);
  const raw = Secret.from(password).reveal();
  const prepared = preparedPassword(raw);
  const [scrypt, sha256, sha1] = await Promise.all([
    hashPassword(prepared, { cost: options.scryptCost ?? DEFAULT_SCRYPT.cost }),
    createScramStoredKey(raw, 'SHA-256'),
    createScramStoredKey(raw, 'SHA-1'),
  ]);
  const fields = [user, scrypt, sha256, sha1];
  // CRAM-MD5 clients key HMAC-MD5 with the password as typed, so it is kept unprepared.
  if (options.cramMd5 === true) fields.push(CRAM_MD5_PREFIX + Buffer.from(raw, 'utf8').toString('base64'));
  const line: FileLine = { text: fields.join('\t') };
  await exclusive(file, async () => {
    const lines: readonly FileLine[] = (await readLines(file)) ?? HEADER.map((text) => ({ text }));
    const at = lines.findIndex((entry) => entry.user?.name === user);
    await writeAtomically(file, at === -1 ? [...lines, line] : lines.with(at, line));
  });
}

/** Removes a user; false when there was no such user (or no file). */
export async function removeUser(file: string, name: string): Promise<boolean> {
  const user = lookupName(name);
  if (user === undefined) return false;
  return exclusive(file, async () => {
    const lines = await readLines(file);
    if (lines === undefined || !lines.some((entry) => entry.user?.name === user)) return false;
    await writeAtomically(
      file,
      lines.filter((entry) => entry.user?.name !== user),
    );
    return true;
  });
}

/** The users in file order with what each can authenticate with; empty when the file does not exist. */
export async function listUsers(file: string): Promise<ListedUser[]> {
  const lines = (await readLines(file)) ?? [];
  return lines.flatMap((entry) =>
    entry.user ? [{ name: entry.user.name, mechanisms: mechanismsOf(entry.user) }] : [],
  );
}

/**
 * The users file as a credential store. An unknown user costs the same scrypt work as a known one, and the SCRAM
 * server half fakes salts for unknown users, so neither answers nor timing tell who exists.
 * `plaintextPassword` is present only while some user has a `plain-for-cram-md5` field.
 */
export class UsersFile implements SaslCredentialStore {
  readonly path: string;
  /** CRAM-MD5 support; undefined unless some user was added with `cramMd5: true`. */
  plaintextPassword: ((user: string) => Promise<Secret | undefined>) | undefined;
  #users: ReadonlyMap<string, UserRecord> = new Map();
  /** What an unknown user's password is checked against, with the parameters real users have. */
  #decoy: ScryptHash = decoyFor(undefined);

  private constructor(path: string) {
    this.path = path;
  }

  /** Reads and checks the file; throws InputError 'ECONFIG' naming the line of the first problem. */
  static async load(file: string): Promise<UsersFile> {
    const users = new UsersFile(file);
    await users.reload();
    return users;
  }

  /** Re-reads the file (on SIGHUP). On error it throws and keeps serving the users it had. */
  async reload(): Promise<void> {
    const lines = await readLines(this.path);
    if (lines === undefined) {
      throw new InputError('ECONFIG', `the users file ${this.path} does not exist`, {
        hint: 'create it with `postern users add NAME`',
      });
    }
    const users = new Map(
      lines.flatMap((entry) => (entry.user ? [[entry.user.name, entry.user] as const] : [])),
    );
    this.#users = users;
    this.#decoy = decoyFor([...users.values()].find((user) => user.scrypt)?.scrypt);
    const anyCram = [...users.values()].some((user) => user.cramMd5 !== undefined);
    this.plaintextPassword = anyCram ? async (user) => this.#find(user)?.cramMd5 : undefined;
  }

  /** Whether the user exists (the name is SASLprep'd first). */
  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  get size(): number {
    return this.#users.size;
  }

  async verifyPassword(user: string, password: Secret): Promise<boolean> {
    const stored = this.#find(user)?.scrypt;
    const matches = await verifyPasswordHash(password, stored ?? this.#decoy);
    return matches && stored !== undefined;
  }

  async scramCredentials(user: string, hash: ScramHashName): Promise<ScramStoredCredentials | undefined> {
    return this.#find(user)?.scram[hash];
  }

  toJSON(): { path: string; users: number } {
    return { path: this.path, users: this.#users.size };
  }

  [inspect.custom](): string {
    return `UsersFile(${this.path}, ${this.#users.size} users)`;
  }

  #find(name: string): UserRecord | undefined {
    const user = lookupName(name);
    return user === undefined ? undefined : this.#users.get(user);
  }
}

/** Parses the whole file; throws InputError 'ECONFIG' with the file and line number (never the line itself). */
function parseUsersFile(text: string, file: string): FileLine[] {
  const rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  const seen = new Set<string>();
  return rows.map((row, index) => {
    const content = row.endsWith('\r') ? row.slice(0, -1) : row;
    if (content.trim() === '' || content.startsWith('#')) return { text: content };
    const fail = (what: string, cause?: unknown) =>
      new InputError('ECONFIG', `users file ${file} line ${index + 1}: ${what}`, {
        hint: 'fix or delete that line; `postern users add NAME` writes a fresh one',
        cause,
      });
    const user = parseUserLine(content, fail);
    if (seen.has(user.name)) throw fail('the user appears twice');
    seen.add(user.name);
    return { text: content, user };
  });
}

function parseUserLine(line: string, fail: (what: string, cause?: unknown) => InputError): UserRecord {
  const [name = '', ...fields] = line.split('\t');
  if (!isStoredName(name)) throw fail('the user name is not valid or not in SASLprep form');
  if (fields.length === 0) throw fail('the user has no password verifier');
  const user: { name: string; scrypt?: ScryptHash; scram: UserRecord['scram']; cramMd5?: Secret } = {
    name,
    scram: {},
  };
  for (const [index, field] of fields.entries()) {
    const which = `field ${index + 2}`;
    let verifier: Verifier;
    try {
      verifier = parseVerifier(field);
    } catch (err) {
      throw fail(`${which}: ${err instanceof Error ? err.message : 'unreadable'}`, err);
    }
    const slot = verifier.kind === 'scram' ? `SCRAM-${verifier.hash}` : verifier.kind;
    const taken =
      verifier.kind === 'scram' ? user.scram[verifier.hash] !== undefined : user[verifier.kind] !== undefined;
    if (taken) throw fail(`${which} repeats the ${slot} verifier`);
    if (verifier.kind === 'scram') user.scram[verifier.hash] = verifier.credentials;
    else if (verifier.kind === 'scrypt') user.scrypt = verifier.value;
    else user.cramMd5 = verifier.value;
  }
  return user;
}

type Verifier =
  | { readonly kind: 'scrypt'; readonly value: ScryptHash }
  | { readonly kind: 'scram'; readonly hash: ScramHashName; readonly credentials: ScramStoredCredentials }
  | { readonly kind: 'cramMd5'; readonly value: Secret };

/** One verifier field, recognised by its prefix; throws InputError without quoting it. */
function parseVerifier(field: string): Verifier {
  if (field.startsWith('$scrypt$')) return { kind: 'scrypt', value: parseScryptHash(field) };
  if (field.startsWith('SCRAM-')) return { kind: 'scram', ...parseScramStoredKey(field) };
  if (field.startsWith(CRAM_MD5_PREFIX)) {
    return { kind: 'cramMd5', value: parseCramField(field.slice(CRAM_MD5_PREFIX.length)) };
  }
  throw new InputError(
    'ECONFIG',
    `it is none of $scrypt$…, SCRAM-SHA-256$…, SCRAM-SHA-1$… or ${CRAM_MD5_PREFIX}…`,
  );
}

function parseCramField(value: string): Secret {
  const bytes = Buffer.from(value, 'base64');
  if (value === '' || bytes.toString('base64') !== value || !isUtf8(bytes)) {
    throw new InputError('ECONFIG', 'the CRAM-MD5 password is not base64 of UTF-8 text');
  }
  return new Secret(bytes.toString('utf8'));
}

function mechanismsOf(user: UserRecord): string[] {
  return [
    ...(user.scram['SHA-256'] ? ['SCRAM-SHA-256'] : []),
    ...(user.scram['SHA-1'] ? ['SCRAM-SHA-1'] : []),
    ...(user.cramMd5 ? ['CRAM-MD5'] : []),
    ...(user.scrypt ? ['PLAIN', 'LOGIN'] : []),
  ];
}

/** The name as stored: SASLprep'd as a stored string, so it cannot hold TAB, CR, LF, NUL or other controls. */
function validUserName(name: string): string {
  let prepared: string;
  try {
    prepared = saslprep(name, { label: 'user name' });
  } catch (cause) {
    throw new InputError('EINVALID_ARGUMENT', 'the user name has characters SASLprep refuses', { cause });
  }
  const problem = nameProblem(prepared);
  if (problem !== undefined) throw new InputError('EINVALID_ARGUMENT', `the user name ${problem}`);
  return prepared;
}

function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_OCTETS) return `is longer than ${MAX_NAME_OCTETS} bytes`;
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains a control character';
  if (name.startsWith('#')) return 'starts with "#", which marks a comment in the users file';
  if (name.trim() !== name) return 'starts or ends with a space';
  return undefined;
}

/** Whether a name read from the file is one addUser could have written. */
function isStoredName(name: string): boolean {
  try {
    return saslprep(name, { label: 'user name' }) === name && nameProblem(name) === undefined;
  } catch {
    return false;
  }
}

/** A presented name as the server would look it up; undefined when SASLprep refuses it. */
function lookupName(name: string): string | undefined {
  try {
    return saslprep(name, { allowUnassigned: true, label: 'user name' });
  } catch {
    return undefined;
  }
}

function preparedPassword(password: string): Secret {
  let prepared: string;
  try {
    prepared = saslprep(password, { label: 'password' });
  } catch (cause) {
    throw new InputError('EINVALID_ARGUMENT', 'the password has characters SASLprep refuses', {
      cause,
      hint: 'control characters and some Unicode cannot be used in passwords (RFC 4013)',
    });
  }
  if (prepared === '') throw new InputError('EINVALID_ARGUMENT', 'the password is empty');
  return new Secret(prepared);
}

/** Random bytes shaped like a real user's scrypt hash: checking against it costs the same and never matches. */
function decoyFor(like: ScryptHash | undefined): ScryptHash {
  const shape = like ?? { ...DEFAULT_SCRYPT, salt: Buffer.alloc(16), hash: Buffer.alloc(32) };
  return { ...shape, salt: randomBytes(shape.salt.length), hash: randomBytes(shape.hash.length) };
}

/** The file's lines, or undefined when it does not exist. */
async function readLines(file: string): Promise<FileLine[] | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError('ECONFIG', `cannot read the users file ${file}`, { cause: err });
  }
  if (!isUtf8(bytes)) throw new InputError('ECONFIG', `the users file ${file} is not UTF-8 text`);
  return parseUsersFile(bytes.toString('utf8'), file);
}

/** Temporary file (mode 0600) → fsync → rename over the old file → fsync the folder. */
async function writeAtomically(file: string, lines: readonly FileLine[]): Promise<void> {
  const folder = dirname(file);
  const temporary = join(folder, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.chmod(0o600); // whatever the umask
      await handle.writeFile(lines.map((line) => `${line.text}\n`).join(''), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  await syncFolder(folder);
}

/** Makes the rename itself durable; some platforms cannot open a folder for this, which is not fatal. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort.
  }
}

/** Changes to one file from this process run one at a time, so two adds cannot lose each other's user. */
const queues = new Map<string, Promise<unknown>>();

async function exclusive<T>(file: string, work: () => Promise<T>): Promise<T> {
  const key = resolve(file);
  const previous = queues.get(key) ?? Promise.resolve();
  const current = previous.then(work, work);
  const settled = current.catch(() => undefined);
  queues.set(key, settled);
  try {
    return await current;
  } finally {
    if (queues.get(key) === settled) queues.delete(key);
  }
}
