import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProtocolError, TlsError } from '../core/index.js';
import * as commands from '../protocol/commands.js';
import { formatReply, parseEhlo } from '../protocol/index.js';
import { Wire } from './wire.js';

/**
 * Sends STARTTLS, waits for 220 and hands back the plaintext socket, ready for the TLS handshake. Bytes that
 * arrived after the 220 were injected ahead of TLS (CVE-2011-0411 class) and are refused, never carried over.
 */
export async function requestStarttls(wire: Wire, label: string, timeout: number): Promise<Duplex> {
  wire.write(commands.starttls());
  const ready = await wire.read('starttls', timeout);
  if (ready.code !== 220) {
    throw new TlsError('ESTARTTLS_FAILED', `${label} refused STARTTLS: ${formatReply(ready)}`, {
      phase: 'starttls',
      reply: ready,
      command: 'STARTTLS',
      transient: ready.code >= 400 && ready.code < 500,
    });
  }
  if (wire.unreadBytes > 0) {
    throw new ProtocolError(
      'ESTARTTLS_INJECTION',
      `${label} sent data after "220 ready to start TLS" before the TLS handshake`,
      {
        phase: 'starttls',
        hint: 'plaintext injected ahead of TLS (CVE-2011-0411 class): a man in the middle or a broken server; refusing to continue',
      },
    );
  }
  return wire.detach();
}

/**
 * Greeting, EHLO and STARTTLS on a fresh plaintext connection, for tools that want only the TLS layer
 * (certificate inspection, audits). Resolves with the socket ready for the handshake.
 */
export async function negotiateStarttls(
  socket: Socket,
  o: { readonly label: string; readonly ehloName: string; readonly timeout: number; readonly hint?: string },
): Promise<Socket> {
  const wire = new Wire(socket, { tls: false, label: o.label });
  const greeting = await wire.read('greeting', o.timeout);
  if (greeting.code !== 220) {
    throw new TlsError('ESTARTTLS_FAILED', `${o.label} refused the connection: ${formatReply(greeting)}`, {
      phase: 'greeting',
      reply: greeting,
    });
  }
  wire.write(commands.ehlo(o.ehloName));
  const ehlo = await wire.read('ehlo', o.timeout);
  if (ehlo.code !== 250 || !parseEhlo(ehlo).starttls) {
    throw new TlsError('ESTARTTLS_UNAVAILABLE', `${o.label} does not offer STARTTLS`, {
      phase: 'starttls',
      hint: o.hint,
    });
  }
  return (await requestStarttls(wire, o.label, o.timeout)) as Socket;
}
