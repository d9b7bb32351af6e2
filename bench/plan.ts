/** How much each scenario sends: the full run (`npm run bench`) and a smoke run (`--quick`). */

export const MiB = 1024 * 1024;

export interface Plan {
  /** Rounds of scenarios a and b; in every round each client runs once, and who goes first alternates. */
  readonly rounds: number;
  readonly pooled: { readonly messages: number; readonly warmup: number; readonly size: number };
  readonly fresh: { readonly messages: number; readonly warmup: number; readonly size: number };
  readonly stream: { readonly bytes: number; readonly warmupBytes: number; readonly rounds: number };
}

// The pooled warm-up is as large as the measured batch: nodemailer (and to a lesser degree Postern) keeps
// getting faster over its first few thousand messages as the JIT optimises it.
export const FULL: Plan = {
  rounds: 5,
  pooled: { messages: 2000, warmup: 2000, size: 1024 },
  fresh: { messages: 300, warmup: 50, size: 1024 },
  stream: { bytes: 100 * MiB, warmupBytes: 2 * MiB, rounds: 3 },
};

export const QUICK: Plan = {
  rounds: 1,
  pooled: { messages: 200, warmup: 50, size: 1024 },
  fresh: { messages: 30, warmup: 5, size: 1024 },
  stream: { bytes: 8 * MiB, warmupBytes: 1 * MiB, rounds: 1 },
};
