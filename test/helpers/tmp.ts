/**
 * Private temp dirs for tests and peers. Each dir is removed by `removeTempDir()` or, failing that,
 * when the test process exits (even when it is killed; see cleanup.ts). With KEEP_PEERS=1 dirs are
 * kept (and their paths printed) for debugging.
 */
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit, shellQuote } from './cleanup.js';

/** KEEP_PEERS=1 keeps temp dirs (configs, logs, spools) of peers after the test for inspection. */
export const KEEP_PEERS = process.env['KEEP_PEERS'] === '1';

const registered = new Map<string, () => void>();

/**
 * Creates `$TMPDIR/postern-<prefix>-XXXXXX` with mode 0755 (daemons that drop privileges, such as
 * Postfix and Dovecot, must be able to traverse it) and registers its removal at process exit.
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `postern-${prefix}-`));
  await chmod(dir, 0o755);
  const unregister = onExit(
    () => {
      if (KEEP_PEERS) process.stderr.write(`KEEP_PEERS=1: kept ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
    KEEP_PEERS ? undefined : `rm -rf ${shellQuote(dir)}\n`,
  );
  registered.set(dir, unregister);
  return dir;
}

/** Removes a dir made by `tempDir()` now (kept when KEEP_PEERS=1). Safe to call twice. */
export async function removeTempDir(dir: string): Promise<void> {
  const unregister = registered.get(dir);
  if (!unregister) return;
  registered.delete(dir);
  unregister();
  if (KEEP_PEERS) {
    process.stderr.write(`KEEP_PEERS=1: kept ${dir}\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}
