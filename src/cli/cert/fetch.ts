/**
 * The certificate chain a server presents, exactly as sent, and whether it verifies.
 *
 * Two handshakes: Node completes a peer chain with issuers from the trust store it verified against, so the
 * first handshake trusts only a throwaway CA made for it — the chain it reports is then just what the server
 * sent. The second trusts the system roots (or --ca) and gives OpenSSL's verdict on the chain and the name.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Wire } from '../../client/wire.js';
import { type PosternError, TlsError } from '../../core/index.js';
import { connectTcp, startTls } from '../../net/index.js';
import * as commands from '../../protocol/commands.js';
import { formatReply, parseEhlo } from '../../protocol/index.js';
import { type ClientTlsOptions, classifyTlsError, createCa, serverIdentity } from '../../tls/index.js';

export interface FetchOptions {
  readonly host: string;
  readonly port: number;
  readonly starttls: boolean;
  readonly ca?: Buffer | undefined;
  readonly servername?: string | undefined;
  readonly timeoutMs: number;
  readonly lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export interface FetchedChain {
  /** DER certificates as the server sent them, leaf first. */
  readonly chain: Buffer[];
  readonly version: string;
  readonly cipher: string;
  /** The name the certificate was checked against. */
  readonly identity: string;
  /** Undefined when the chain verifies; else why not (a classified TLS error with a hint). */
  readonly verifyError: PosternError | undefined;
}

interface PeerCertificate {
  readonly raw?: Buffer;
  readonly issuerCertificate?: PeerCertificate;
}

async function handshake(o: FetchOptions, tls: ClientTlsOptions): Promise<TLSSocket> {
  const { socket } = await connectTcp({
    host: o.host,
    port: o.port,
    connectTimeout: o.timeoutMs,
    lookup: o.lookup,
  });
  let plain = socket;
  if (o.starttls) {
    try {
      plain = await negotiateStarttls(socket, o);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }
  return startTls(plain, {
    host: o.host,
    port: o.port,
    tls,
    handshakeTimeout: o.timeoutMs,
    phase: o.starttls ? 'starttls' : 'tls',
  });
}

/** Greeting, EHLO, STARTTLS, 220: the socket is then ready for the TLS handshake. */
async function negotiateStarttls(socket: Socket, o: FetchOptions): Promise<Socket> {
  const label = `${o.host}:${o.port}`;
  const wire = new Wire(socket, { tls: false, label });
  const greeting = await wire.read('greeting', o.timeoutMs);
  if (greeting.code !== 220) {
    throw new TlsError('ESTARTTLS_FAILED', `${label} refused the connection: ${formatReply(greeting)}`, {
      phase: 'greeting',
      reply: greeting,
    });
  }
  wire.write(commands.ehlo('postern.invalid'));
  const ehlo = await wire.read('ehlo', o.timeoutMs);
  if (ehlo.code !== 250 || !parseEhlo(ehlo).starttls) {
    throw new TlsError('ESTARTTLS_UNAVAILABLE', `${label} does not offer STARTTLS`, {
      phase: 'starttls',
      hint: 'leave out --starttls if this port speaks TLS from the start (465)',
    });
  }
  wire.write(commands.starttls());
  const ready = await wire.read('starttls', o.timeoutMs);
  if (ready.code !== 220) {
    throw new TlsError('ESTARTTLS_FAILED', `${label} refused STARTTLS: ${formatReply(ready)}`, {
      phase: 'starttls',
      reply: ready,
    });
  }
  return wire.detach() as Socket;
}

function presentedChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let current = socket.getPeerCertificate(true) as PeerCertificate | undefined;
  while (current?.raw && !chain.some((der) => der.equals(current!.raw!))) {
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}

/**
 * Connects (implicit TLS, or EHLO + STARTTLS) and returns the presented chain and the verification verdict.
 *
 * @example const { chain, verifyError } = await fetchChain({ host: 'mail.example.com', port: 465, starttls: false, timeoutMs: 10000 });
 */
export async function fetchChain(o: FetchOptions): Promise<FetchedChain> {
  const throwaway = await createCa({ commonName: 'postern cert show (trusts nothing)' });
  const base = o.servername !== undefined ? { servername: o.servername } : {};
  const first = await handshake(o, { ...base, ca: throwaway.cert, insecureSkipVerify: true });
  const chain = presentedChain(first);
  const version = first.getProtocol() ?? 'unknown';
  const cipher = first.getCipher()?.name ?? 'unknown';
  first.destroy();

  const second = await handshake(o, { ...base, ...(o.ca ? { ca: o.ca } : {}), insecureSkipVerify: true });
  const { identity } = serverIdentity(base, o.host);
  const authorized = second.authorized;
  const code = second.authorizationError ? String(second.authorizationError) : 'CERT_REJECTED';
  second.destroy();
  const verifyError = authorized
    ? undefined
    : classifyTlsError(Object.assign(new Error(`certificate verification failed: ${code}`), { code }), {
        host: o.host,
        port: o.port,
        phase: o.starttls ? 'starttls' : 'tls',
        peerCertificate: chain[0],
        servername: identity === o.host ? undefined : identity,
      });
  return { chain, version, cipher, identity, verifyError };
}
