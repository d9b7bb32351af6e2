/**
 * From the rounds' measurements to the table's rows: medians of rates and CPU, the worst round of RSS
 * growth, and the target each figure is held to.
 */
import type { ClientKind } from './clients.js';
import { MiB, type Plan } from './plan.js';
import { isMissing, type Missing, type Row } from './report.js';
import type { JobResult, Measurement } from './worker.js';

export type Runner = ClientKind | 'raw' | 'floor';
export type StreamRunner = ClientKind | 'raw';
/** A worker's result, or why there is none (a hang, a crash). */
export type Outcome = JobResult | Missing;
type Figure = (m: Measurement) => number;

export interface Results {
  /** With the protocol floor (floor.ts) beside the two clients. */
  readonly pooledData: Record<ClientKind | 'floor', Outcome[]>;
  readonly pooledChunking: Record<ClientKind, Outcome[]>;
  readonly fresh: Record<ClientKind, Outcome[]>;
  readonly stream: Record<StreamRunner, Outcome[]>;
}

const rate: Figure = (m) => m.messages / m.seconds;
const cpu: Figure = (m) => m.cpuMs / m.messages;
const mibps: Figure = (m) => m.bytes / MiB / m.seconds;
const rss: Figure = (m) => (m.rssGrowth ?? 0) / MiB;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const worst = (values: readonly number[]): number => Math.max(...values);

/** One figure over the rounds, or why there is none: a single missing round spoils it. */
function summarise(outcomes: readonly Outcome[], figure: Figure, pick = median): number | Missing {
  const measured: Measurement[] = [];
  for (const o of outcomes) {
    if ('status' in o) return o;
    if (!o.ok) return { status: o.stage === 'load' ? 'pending' : 'error', detail: o.error };
    measured.push(o);
  }
  if (measured.length === 0) return { status: 'error', detail: 'no rounds ran' };
  return pick(measured.map(figure));
}

/** For the anchors (nodemailer, raw TLS), which have no pending state: a missing figure shows as n/a. */
function anchor(outcomes: readonly Outcome[], figure: Figure, pick = median): number | undefined {
  const value = summarise(outcomes, figure, pick);
  return isMissing(value) ? undefined : value;
}

/** Scenario a's protocol floor: the rate of a client that does no work, over the same connection pattern. */
export function floorRate(results: Results): number | undefined {
  return anchor(results.pooledData.floor, rate);
}

export function rawThroughput(results: Results): number | undefined {
  return anchor(results.stream.raw, mibps);
}

export function buildRows(plan: Plan, results: Results): Row[] {
  const { pooledData, pooledChunking, fresh, stream } = results;
  const raw = rawThroughput(results);
  const share = (value: number | Missing | undefined): number | Missing | undefined =>
    value === undefined || isMissing(value) ? value : raw === undefined ? undefined : (value / raw) * 100;
  const n = plan.pooled.messages;
  const rawText = raw === undefined ? 'n/a' : raw.toFixed(0);
  return [
    {
      label: `a. ${n} × 1 KB, 1 pooled STARTTLS conn, DATA`,
      unit: 'msg/s',
      decimals: 0,
      nodemailer: anchor(pooledData.nodemailer, rate),
      postern: summarise(pooledData.postern, rate),
      target: { kind: 'ratio-at-least', value: 3 },
    },
    {
      label: 'a.   client CPU per message, DATA',
      unit: 'ms',
      decimals: 3,
      nodemailer: anchor(pooledData.nodemailer, cpu),
      postern: summarise(pooledData.postern, cpu),
    },
    {
      label: `a. ${n} × 1 KB, 1 pooled STARTTLS conn, CHUNKING offered`,
      unit: 'msg/s',
      decimals: 0,
      nodemailer: anchor(pooledChunking.nodemailer, rate),
      postern: summarise(pooledChunking.postern, rate),
      target: { kind: 'ratio-at-least', value: 3 },
    },
    {
      label: 'a.   client CPU per message, CHUNKING offered',
      unit: 'ms',
      decimals: 3,
      nodemailer: anchor(pooledChunking.nodemailer, cpu),
      postern: summarise(pooledChunking.postern, cpu),
    },
    {
      label: `b. ${plan.fresh.messages} × fresh conn, STARTTLS + AUTH PLAIN`,
      unit: 'msg/s',
      decimals: 0,
      nodemailer: anchor(fresh.nodemailer, rate),
      postern: summarise(fresh.postern, rate),
      target: { kind: 'ratio-at-least', value: 1.5 },
    },
    {
      label: `c. ${plan.stream.bytes / MiB} MiB stream, STARTTLS (raw TLS ${rawText} MiB/s)`,
      unit: 'MiB/s',
      decimals: 1,
      nodemailer: anchor(stream.nodemailer, mibps),
      postern: summarise(stream.postern, mibps),
    },
    {
      label: 'c.   share of raw node:tls throughput',
      unit: '%',
      decimals: 0,
      nodemailer: share(anchor(stream.nodemailer, mibps)) as number | undefined,
      postern: share(summarise(stream.postern, mibps)) ?? { status: 'error', detail: 'no raw TLS figure' },
      target: { kind: 'of-raw-at-least', value: 40 },
    },
    {
      label: 'c.   client RSS growth (worst round)',
      unit: 'MiB',
      decimals: 1,
      nodemailer: anchor(stream.nodemailer, rss, worst),
      postern: summarise(stream.postern, rss, worst),
      target: { kind: 'at-most', value: 64, unit: 'MiB' },
    },
  ];
}
