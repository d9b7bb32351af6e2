/**
 * The results table: one row per figure, nodemailer beside Postern, their ratio, the target and whether
 * Postern meets it. Also the description of the machine the figures came from.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

/** What a row's target compares: Postern against nodemailer, against the raw TLS anchor, or an absolute cap. */
export type Target =
  | { readonly kind: 'ratio-at-least'; readonly value: number }
  | { readonly kind: 'of-raw-at-least'; readonly value: number }
  | { readonly kind: 'at-most'; readonly value: number; readonly unit: string };

/** A Postern cell that has no figure: its code did not load yet, it failed, or it hung. */
export interface Missing {
  readonly status: 'pending' | 'error' | 'hang';
  readonly detail: string;
}

export interface Row {
  readonly label: string;
  readonly unit: string;
  readonly decimals: number;
  readonly nodemailer: number | undefined;
  readonly postern: number | Missing;
  readonly target?: Target;
}

export function isMissing(value: number | Missing): value is Missing {
  return typeof value === 'object';
}

export function ratio(row: Row): number | undefined {
  if (isMissing(row.postern) || row.nodemailer === undefined || row.nodemailer === 0) return undefined;
  return row.postern / row.nodemailer;
}

export function targetText(target: Target | undefined): string {
  if (!target) return '—';
  switch (target.kind) {
    case 'ratio-at-least':
      return `≥ ${target.value}× nm`;
    case 'of-raw-at-least':
      return `≥ ${target.value}% raw`;
    case 'at-most':
      return `< ${target.value} ${target.unit}`;
  }
}

/** `pass` / `miss` for Postern's figure, or why there is none. */
export function verdict(row: Row): string {
  if (isMissing(row.postern)) return row.postern.status;
  const target = row.target;
  if (!target) return '—';
  switch (target.kind) {
    case 'ratio-at-least': {
      const r = ratio(row);
      return r === undefined ? '—' : r >= target.value ? 'pass' : 'miss';
    }
    case 'of-raw-at-least':
      return row.postern >= target.value ? 'pass' : 'miss';
    case 'at-most':
      return row.postern < target.value ? 'pass' : 'miss';
  }
}

export function number(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function cell(value: number | Missing | undefined, row: Row): string {
  if (value === undefined) return 'n/a';
  if (isMissing(value)) return value.status;
  return `${number(value, row.decimals)} ${row.unit}`;
}

/** Plain-text table; `markdown` gives the same table with pipes for BENCHMARKS.md. */
export function formatTable(rows: readonly Row[], markdown = false): string {
  const header = ['scenario', 'nodemailer', 'Postern', 'Postern/nm', 'target', 'result'];
  const body = rows.map((row) => {
    const r = ratio(row);
    return [
      row.label,
      cell(row.nodemailer, row),
      cell(row.postern, row),
      r === undefined ? '—' : `${number(r, 2)}×`,
      targetText(row.target),
      verdict(row),
    ];
  });
  return layoutTable(header, body, markdown);
}

/** Lays out a header and rows: aligned plain text (first column left, the rest right), or a Markdown table. */
export function layoutTable(header: readonly string[], body: readonly string[][], markdown = false): string {
  if (markdown) {
    const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
    return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(line)].join(
      '\n',
    );
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly openssl: string;
  readonly nodemailer: string;
  readonly platform: string;
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpuModel = match[1]!.trim();
  } catch {
    // Not Linux: the model stays unknown.
  }
  let nodemailer = 'unknown';
  try {
    const manifest = new URL('../node_modules/nodemailer/package.json', import.meta.url);
    nodemailer = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    // Reported as unknown.
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl,
    nodemailer,
    platform: `${process.platform} ${process.arch}`,
  };
}
