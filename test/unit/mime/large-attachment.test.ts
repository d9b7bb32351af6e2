// Large attachments stream from disk: composing one never holds it in memory. A sparse file of zeros is
// made in a temp dir (instant, no disk space), the output is hashed as it streams, and RSS is sampled.
// The 1 GiB run is skipped unless POSTERN_BIG_TESTS=1; the 100 MiB one always runs (about a second).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { compose } from '../../../src/mime/index.js';
import type { ComposedMessage } from '../../../src/mime/message.js';
import { BASE } from './support.js';

const MiB = 1024 * 1024;
const BIG = process.env['POSTERN_BIG_TESTS'] === '1';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'postern-large-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sparseFile(size: number): Promise<string> {
  const path = join(dir, `zeros-${size}.bin`);
  const handle = await open(path, 'w');
  await handle.truncate(size);
  await handle.close();
  return path;
}

/** Streams the message into SHA-256 while sampling RSS; gives the digest, byte count and peak RSS growth. */
async function hashWhileSampling(
  composed: ComposedMessage,
): Promise<{ digest: string; bytes: number; growth: number; seconds: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const started = process.hrtime.bigint();
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of composed.stream()) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      peak = Math.max(peak, process.memoryUsage.rss());
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { digest: hash.digest('hex'), bytes, growth: (peak - baseline) / MiB, seconds };
}

async function check(size: number, label: string): Promise<void> {
  const path = await sparseFile(size);
  const composed = await compose({ ...BASE, subject: label, text: 'see attached', attachments: [{ path }] });
  assert.ok(composed.size! > (size * 4) / 3, 'the size is known up front');
  const first = await hashWhileSampling(composed);
  assert.equal(first.bytes, composed.size);
  const second = await hashWhileSampling(composed);
  assert.equal(second.digest, first.digest, 'a second stream() gives the same bytes');
  const growth = Math.max(first.growth, second.growth);
  process.stderr.write(
    `${label}: ${(first.bytes / MiB).toFixed(0)} MiB out in ${first.seconds.toFixed(2)} s, peak RSS growth ${growth.toFixed(1)} MiB\n`,
  );
  assert.ok(growth < 64, `peak RSS grew by ${growth.toFixed(1)} MiB`);
}

describe('large attachments from disk', () => {
  test('100 MiB composes with peak RSS growth under 64 MiB', async () => {
    await check(100 * MiB, '100 MiB attachment');
  });

  test('1 GiB composes with peak RSS growth under 64 MiB', {
    skip: BIG ? false : 'set POSTERN_BIG_TESTS=1',
  }, async () => {
    await check(1024 * MiB, '1 GiB attachment');
  });
});

describe('a large one-shot stream', () => {
  test('64 MiB from a Readable is spilled to an anonymous temp file, replayed, and released', async () => {
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
    let sent = 0;
    const source = new Readable({
      read() {
        this.push(sent < 64 * MiB ? chunk : null);
        sent += chunk.length;
      },
    });
    const spillsBefore = (await readdir(tmpdir())).filter((name) => name.startsWith('postern-spill-'));
    const composed = await compose({ ...BASE, attachments: [{ filename: 'stream.bin', content: source }] });
    assert.equal(composed.size, undefined);
    const first = await hashWhileSampling(composed);
    const second = await hashWhileSampling(composed);
    assert.equal(second.digest, first.digest);
    assert.equal(second.bytes, first.bytes);
    const growth = Math.max(first.growth, second.growth);
    process.stderr.write(`64 MiB stream: peak RSS growth ${growth.toFixed(1)} MiB\n`);
    assert.ok(growth < 64, `peak RSS grew by ${growth.toFixed(1)} MiB`);
    const spillsAfter = (await readdir(tmpdir())).filter((name) => name.startsWith('postern-spill-'));
    assert.deepEqual(spillsAfter, spillsBefore, 'the temp file has no name on disk');
    await composed.dispose();
    await assert.rejects(hashWhileSampling(composed), /disposed/);
  });
});
