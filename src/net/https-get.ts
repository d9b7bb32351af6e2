/**
 * One HTTPS GET with a verified certificate, a size limit and a deadline — enough to fetch an MTA-STS policy
 * (RFC 8461 §3.3). Redirects are never followed: the 3xx comes back as it is, because RFC 8461 forbids
 * following them and a caller that wants them can decide for itself.
 */
import https from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  ConnectionError,
  InputError,
  type PosternError,
  ProtocolError,
  TimeoutError,
  TlsError,
} from '../core/errors.js';
import { abortError } from '../core/timeout.js';
import { classifyTlsError, type TlsErrorContext } from '../tls/index.js';

export const DEFAULT_HTTPS_MAX_BYTES = 64 * 1024;
export const DEFAULT_HTTPS_TIMEOUT = 10_000;

export interface HttpsGetOptions {
  /** An https: URL; its host is what the certificate must be valid for. */
  readonly url: string;
  /** Connect to this address instead of resolving the URL's host (SNI and the name check still use it). */
  readonly connect?: { readonly host: string; readonly port: number } | undefined;
  /** CA certificates (PEM) to trust instead of the system roots. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[] | undefined;
  /** Largest body accepted, in octets; default 64 KiB. A bigger one fails with EPROTOCOL. */
  readonly maxBytes?: number | undefined;
  /** Milliseconds for the whole exchange, connect to last byte; default 10000. */
  readonly timeout?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface HttpsResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The media type without parameters, lower case ("text/plain"), when there is a Content-Type. */
  readonly mediaType: string | undefined;
  readonly body: Buffer;
}

const TCP_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Fetches `url` over HTTPS. Throws a PosternError: ETLS_* when the certificate does not verify, ECONNREFUSED /
 * ECONNECTION / EDNS when the server cannot be reached, ETIMEOUT, EPROTOCOL for an over-long body, EABORTED.
 *
 * @example
 * const res = await httpsGet({ url: 'https://mta-sts.example.com/.well-known/mta-sts.txt' });
 */
export function httpsGet(o: HttpsGetOptions): Promise<HttpsResponse> {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch (cause) {
    return Promise.reject(
      new InputError('EINVALID_ARGUMENT', `not a URL: ${JSON.stringify(o.url)}`, { cause }),
    );
  }
  if (url.protocol !== 'https:') {
    return Promise.reject(new InputError('EINVALID_ARGUMENT', `not an https: URL: ${o.url}`));
  }
  const name = url.hostname.replace(/^\[|\]$/g, '');
  const target = o.connect ?? { host: name, port: Number(url.port || 443) };
  const maxBytes = o.maxBytes ?? DEFAULT_HTTPS_MAX_BYTES;
  const timeout = o.timeout ?? DEFAULT_HTTPS_TIMEOUT;
  const where = `${target.host} port ${target.port}`;

  return new Promise<HttpsResponse>((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(abortError(o.signal));
      return;
    }
    let settled = false;
    let secured = false;
    let peerCertificate: Buffer | undefined;
    const fail = (err: PosternError) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(err);
    };
    const request: https.RequestOptions = {
      host: target.host,
      port: target.port,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      // The URL's host is what the certificate must name, whatever address we connect to.
      servername: isIP(name) ? undefined : name,
      headers: { host: url.host, accept: 'text/plain', 'user-agent': 'postern' },
      agent: false,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...(o.ca !== undefined
        ? { ca: typeof o.ca === 'string' || Buffer.isBuffer(o.ca) ? o.ca : [...o.ca] }
        : {}),
    };
    const req = https.request(request, (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(tooLarge(o.url, maxBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(tooLarge(o.url, maxBytes));
        else chunks.push(chunk);
      });
      res.on('error', (err) => fail(transferError(err)));
      res.on('aborted', () => fail(transferError(new Error('response aborted'))));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        cleanup();
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
        }
        const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
        resolve({ status: res.statusCode ?? 0, headers, mediaType, body: Buffer.concat(chunks) });
      });
    });
    req.on('socket', (socket) => {
      (socket as TLSSocket).once('secureConnect', () => {
        secured = true;
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const socket = req.socket as TLSSocket | null;
      peerCertificate ??= socket?.getPeerCertificate?.()?.raw;
      if (secured) fail(transferError(err));
      else if (err.code && TCP_ERRORS.has(err.code)) {
        fail(
          new ConnectionError(
            err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ECONNECTION',
            `${where}: ${err.message}`,
            {
              cause: err,
              transient: true,
              hint: `check that an HTTPS server for ${name} listens there`,
            },
          ),
        );
      } else {
        fail(
          httpsTlsError(err, {
            host: target.host,
            port: target.port,
            phase: 'tls',
            servername: name,
            peerCertificate,
          }),
        );
      }
    });
    const timer = setTimeout(
      () =>
        fail(
          new TimeoutError('ETIMEOUT', `no complete HTTPS response from ${where} within ${timeout} ms`, {
            transient: true,
          }),
        ),
      timeout,
    );
    const onAbort = () => fail(abortError(o.signal));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    req.end();

    function transferError(err: Error): PosternError {
      return new ConnectionError(
        'ECONNECTION',
        `the HTTPS response from ${where} broke off: ${err.message}`,
        {
          cause: err,
          transient: true,
        },
      );
    }
  });
}

/** Hints for an HTTPS server, where classifyTlsError's hints speak of SMTP ports and client options. */
function httpsTlsError(err: unknown, ctx: TlsErrorContext): PosternError {
  const classified = classifyTlsError(err, ctx);
  const name = ctx.servername ?? ctx.host;
  const hints: Partial<Record<string, string>> = {
    ETLS_PLAINTEXT_PORT: `an HTTPS server for ${name} must listen there`,
    ETLS_CERT_UNTRUSTED: `${name} needs a certificate from a CA the senders trust; to test with a private CA, pass it as ca (postern audit: --mta-sts-ca FILE)`,
    ETLS_CERT_SELF_SIGNED: `${name} needs a certificate from a CA the senders trust (RFC 8461 §3.3)`,
    ETLS_CERT_NAME_MISMATCH: `the certificate must name ${name}`,
  };
  const hint = hints[classified.code];
  if (hint === undefined) return classified;
  const base = classified.hint
    ? classified.message.slice(0, -(classified.hint.length + 3))
    : classified.message;
  return new TlsError(classified.code, base, { hint, cause: err, transient: classified.transient });
}

function tooLarge(url: string, maxBytes: number): ProtocolError {
  return new ProtocolError('EPROTOCOL', `the response of ${url} is larger than ${maxBytes} octets`, {
    hint: 'an MTA-STS policy is a few lines; check what the server serves at this URL',
  });
}
