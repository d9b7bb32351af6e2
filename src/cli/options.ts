/** Argument parsers shared by commands; a bad value is a commander usage error (exit 64). */
import { InvalidArgumentError } from 'commander';

/** For repeatable options: `--to a --to b`. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError('a port is a number from 1 to 65535');
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
}

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}
