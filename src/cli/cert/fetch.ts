import type { TLSSocket } from 'node:tls';
import { negotiateStarttls } from '../../client/index.js';
import type { PosternError } from '../../core/index.js';
import { connectTcp, startTls } from '../../net/index.js';
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
      plain = await negotiateStarttls(socket, {
        label: `${o.host}:${o.port}`,
        ehloName: 'postern.invalid',
        timeout: o.timeoutMs,
        hint: 'leave out --starttls if this port speaks TLS from the start (465)',
      });
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
