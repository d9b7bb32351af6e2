// Shared by the DNS policy integration tests: a loopback HTTPS server for MTA-STS policies, with a certificate
// for mta-sts.<domain> issued by the test CA (test/helpers/certs.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificate } from '../../../src/tls/certificates.js';
import { testPki } from '../../helpers/certs.js';

export interface PolicyServer {
  readonly port: number;
  /** The CA that issued the server's certificate (PEM). */
  readonly ca: Buffer;
  /** Request lines seen ("GET /path" with the Host header), in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export type PolicyHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves `handler` over HTTPS on `host` (a loopback address, default 127.0.0.1) with a certificate for `names`
 * (default mta-sts.example.test).
 */
export async function startPolicyServer(
  handler: PolicyHandler,
  names: readonly string[] = ['mta-sts.example.test'],
  host = '127.0.0.1',
): Promise<PolicyServer> {
  const pki = await testPki();
  const leaf = await createCertificate({
    commonName: names[0] ?? 'mta-sts.example.test',
    altNames: [...names],
    issuer: { cert: pki.caCert, key: pki.caKey },
  });
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    requests.push(`${req.method} ${req.url} host=${req.headers.host}`);
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    ca: Buffer.from(pki.caCert),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A handler that serves `body` as text/plain at the MTA-STS path and 404 elsewhere. */
export function servePolicy(body: string, contentType = 'text/plain; charset=utf-8'): PolicyHandler {
  return (req, res) => {
    if (req.url !== '/.well-known/mta-sts.txt') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': contentType }).end(body);
  };
}
