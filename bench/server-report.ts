/**
 * The server benchmark's table: smtp-server beside Postern, the ratio Postern/smtp-server, the target and
 * whether Postern meets it.
 */
import { layoutTable, number } from './report.js';

export type ServerTarget =
  /** Postern's figure at least `value` × smtp-server's (rates). */
  | { readonly kind: 'ratio-at-least'; readonly value: number }
  /** Postern's figure at most `value` × smtp-server's (memory). */
  | { readonly kind: 'ratio-at-most'; readonly value: number }
  /** Postern's figure below an absolute cap. */
  | { readonly kind: 'below'; readonly value: number; readonly unit: string };

export interface ServerRow {
  readonly label: string;
  readonly unit: string;
  readonly decimals: number;
  /** undefined: no figure (the runs failed; see the log above the table). */
  readonly smtpServer: number | undefined;
  readonly postern: number | undefined;
  readonly target?: ServerTarget;
}

export function serverRatio(row: ServerRow): number | undefined {
  if (row.postern === undefined || row.smtpServer === undefined || row.smtpServer === 0) return undefined;
  return row.postern / row.smtpServer;
}

export function serverTargetText(target: ServerTarget | undefined): string {
  if (!target) return '—';
  switch (target.kind) {
    case 'ratio-at-least':
      return `≥ ${target.value}× s-s`;
    case 'ratio-at-most':
      return `≤ ${target.value}× s-s`;
    case 'below':
      return `< ${target.value} ${target.unit}`;
  }
}

export function serverVerdict(row: ServerRow): string {
  const target = row.target;
  if (!target) return '—';
  if (row.postern === undefined) return 'error';
  const r = serverRatio(row);
  switch (target.kind) {
    case 'ratio-at-least':
      return r === undefined ? '—' : r >= target.value ? 'pass' : 'miss';
    case 'ratio-at-most':
      return r === undefined ? '—' : r <= target.value ? 'pass' : 'miss';
    case 'below':
      return row.postern < target.value ? 'pass' : 'miss';
  }
}

function cell(value: number | undefined, row: ServerRow): string {
  return value === undefined ? 'n/a' : `${number(value, row.decimals)} ${row.unit}`;
}

/** Plain-text table, or with `markdown` the same table with pipes for BENCHMARKS.md. */
export function formatServerTable(rows: readonly ServerRow[], markdown = false): string {
  const header = ['scenario', 'smtp-server', 'Postern', 'Postern/s-s', 'target', 'result'];
  const body = rows.map((row) => {
    const r = serverRatio(row);
    return [
      row.label,
      cell(row.smtpServer, row),
      cell(row.postern, row),
      r === undefined ? '—' : `${number(r, 2)}×`,
      serverTargetText(row.target),
      serverVerdict(row),
    ];
  });
  return layoutTable(header, body, markdown);
}
