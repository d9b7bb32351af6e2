/**
 * Sizes as people type them: `--max-size 10M`. Suffixes are binary (K = 1024, as Postfix and most mail software
 * count message sizes), case-insensitive, with an optional B or iB: 512K, 10M, 10MB, 10MiB, 1G, 26214400.
 */
import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i;

/**
 * The number of octets `value` names; a bad value is a usage error (exit 64).
 *
 * @example byteSize('10M') === 10485760
 */
export function byteSize(value: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size in bytes, e.g. 26214400, 512K, 10M or 1G');
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidArgumentError('the size must be at least 1 byte');
  }
  return bytes;
}

/** "25 MiB", "512 KiB", "1000 B": a size as --max-size would take it, for the banner. */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) {
      const n = bytes / size;
      return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}
