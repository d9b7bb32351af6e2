/**
 * Zero configuration: when the default users file does not exist yet, `postern serve` creates it with one user,
 * `test`, and a random password that is printed once (as Mailpit and aiosmtpd-style test servers do). The file
 * holds only verifiers, so the password cannot be shown again; `postern users add test` sets a new one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Secret } from '../../core/index.js';
import { addUser } from '../../server/index.js';
import { TEST_USER } from '../defaults.js';

export interface TestUser {
  readonly name: string;
  readonly password: Secret;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** 144 random bits in the URL-safe base64 alphabet: nothing a shell or swaks would need quoted beyond '…'. */
export function randomPassword(): Secret {
  return new Secret(randomBytes(18).toString('base64url'));
}

/**
 * Creates `file` (and its folder, 0700) with the test user when the file does not exist; undefined when it
 * already exists (its users are left alone).
 */
export async function ensureTestUser(file: string): Promise<TestUser | undefined> {
  if (await exists(file)) return undefined;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const password = randomPassword();
  await addUser(file, TEST_USER, password);
  return { name: TEST_USER, password };
}
