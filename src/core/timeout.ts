import { type Phase, PosternError, TimeoutError } from './errors.js';

/**
 * Races `promise` against a timer and an optional AbortSignal. The timer is always cleared.
 * On timeout the error names the phase, so a user learns where the server stalled.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  phase: Phase,
  options: { signal?: AbortSignal | undefined; onTimeout?: () => void; hint?: string } = {},
): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guards = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      options.onTimeout?.();
      reject(
        new TimeoutError('ETIMEOUT', `timed out after ${ms} ms waiting in the ${phase} phase`, {
          phase,
          transient: true,
          hint: options.hint,
        }),
      );
    }, ms);
    timer.unref?.();
    if (options.signal) {
      onAbort = () => reject(abortError(options.signal, phase));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([promise, guards]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}

export function abortError(signal: AbortSignal | undefined, phase?: Phase): PosternError {
  return new PosternError('EABORTED', 'the operation was aborted', { phase, cause: signal?.reason });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(abortError(signal));
      },
      { once: true },
    );
  });
}
