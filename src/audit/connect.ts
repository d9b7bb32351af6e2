/**
 * Opening connections to an audit target: a raw socket ready for a (hand-built or Node) TLS ClientHello —
 * after greeting, EHLO and STARTTLS on a STARTTLS port — with one timeout per step.
 */
import type { Socket } from 'node:net';
import { negotiateStarttls } from '../client/index.js';
import { connectTcp } from '../net/index.js';
import type { AuditTarget } from './types.js';

export const DEFAULT_AUDIT_TIMEOUT = 10_000;
export const DEFAULT_EHLO_NAME = 'postern-audit.invalid';

export function targetLabel(t: AuditTarget): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** A plaintext TCP connection to the target, nothing read yet. */
export async function openTcp(t: AuditTarget, signal?: AbortSignal): Promise<Socket> {
  const { socket } = await connectTcp({
    host: t.host,
    port: t.port,
    connectTimeout: t.timeout ?? DEFAULT_AUDIT_TIMEOUT,
    signal,
  });
  return socket;
}

/**
 * A socket on which the next bytes we write are a TLS ClientHello: implicit TLS as connected, STARTTLS after
 * the server's "220 ready". The caller owns (and destroys) the socket.
 */
export async function openTlsProbe(t: AuditTarget, signal?: AbortSignal): Promise<Socket> {
  const socket = await openTcp(t, signal);
  if (t.mode === 'implicit') return socket;
  try {
    return await negotiateStarttls(socket, {
      label: targetLabel(t),
      ehloName: t.ehloName ?? DEFAULT_EHLO_NAME,
      timeout: t.timeout ?? DEFAULT_AUDIT_TIMEOUT,
    });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Runs `tasks` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
