/**
 * Turns what Node/OpenSSL report about a failed handshake into a TlsError whose code says which
 * failure it was and whose hint says what to do about it. Callers switch on `code`.
 */
import { X509Certificate } from 'node:crypto';
import { ConnectionError, PosternError, TlsError } from '../core/errors.js';
import { parseCertificate, subjectAltNames } from './x509-der.js';

export interface TlsErrorContext {
  readonly host: string;
  readonly port: number;
  readonly phase: 'tls' | 'starttls';
  /** The server's certificate (DER) when it was received; lets messages name its dates and names. */
  readonly peerCertificate?: Buffer | undefined;
  /** The name the certificate was checked against, when it is not `host`. */
  readonly servername?: string | undefined;
  /** The lowest TLS version we offered, for version messages. */
  readonly minVersion?: string | undefined;
}

interface ErrorFacts {
  readonly code: string;
  readonly text: string;
}

function factsOf(err: unknown): ErrorFacts {
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException & { reason?: string; library?: string };
    return {
      code: typeof e.code === 'string' ? e.code : '',
      text: `${e.message} ${e.reason ?? ''}`.toLowerCase(),
    };
  }
  return { code: '', text: String(err).toLowerCase() };
}

function certDates(der: Buffer | undefined): { notBefore: Date; notAfter: Date } | undefined {
  if (!der) return undefined;
  try {
    const x = new X509Certificate(der);
    return { notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
  } catch {
    return undefined;
  }
}

function certNames(der: Buffer | undefined): string[] | undefined {
  if (!der) return undefined;
  try {
    return subjectAltNames(parseCertificate(der));
  } catch {
    return undefined;
  }
}

const CERT_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_REJECTED',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
]);

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Classifies a TLS handshake failure. The original error is kept as `cause`.
 *
 * @example
 * socket.once('error', (err) => reject(classifyTlsError(err, { host, port, phase: 'tls' })));
 */
export function classifyTlsError(err: unknown, ctx: TlsErrorContext): PosternError {
  if (err instanceof PosternError) return err;
  const { code, text } = factsOf(err);
  const where = `${ctx.host} port ${ctx.port}`;
  const handshake = ctx.phase === 'starttls' ? 'the TLS handshake after STARTTLS' : 'the TLS handshake';
  const name = ctx.servername ?? ctx.host;
  const base = { phase: ctx.phase, cause: err, transient: false } as const;
  const tlsError = (errorCode: ConstructorParameters<typeof TlsError>[0], message: string, hint: string) =>
    new TlsError(errorCode, message, { ...base, hint });

  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return tlsError(
        'ETLS_CERT_SELF_SIGNED',
        `${where} presented a self-signed certificate, which nothing vouches for`,
        'if you trust this server, pass its certificate as tls.ca (or pin it with tls.pin); ' +
          'for a throwaway test server only, tls.insecureSkipVerify: true',
      );
    case 'CERT_HAS_EXPIRED': {
      const dates = certDates(ctx.peerCertificate);
      const when = dates ? ` on ${dates.notAfter.toISOString()}` : '';
      return tlsError(
        'ETLS_CERT_EXPIRED',
        `the certificate of ${where} expired${when}`,
        'the server operator must renew it; if the date looks wrong, check this computer’s clock',
      );
    }
    case 'CERT_NOT_YET_VALID': {
      const dates = certDates(ctx.peerCertificate);
      const when = dates ? ` until ${dates.notBefore.toISOString()}` : '';
      return tlsError(
        'ETLS_CERT_NOT_YET_VALID',
        `the certificate of ${where} is not valid yet${when}`,
        'check the clocks of this computer and of the server (NTP)',
      );
    }
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const names = certNames(ctx.peerCertificate);
      const has = names?.length ? `it is for ${names.join(', ')}` : 'it does not name this host';
      return tlsError(
        'ETLS_CERT_NAME_MISMATCH',
        `the certificate of ${where} is not valid for "${name}": ${has}`,
        'connect using one of the names in the certificate, or set tls.servername to the name the ' +
          'certificate was issued for (e.g. when connecting by IP address or through a tunnel)',
      );
    }
  }
  if (CERT_UNTRUSTED.has(code)) {
    const chainHint =
      code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
        ? '; if a public CA issued it, the server is probably not sending its intermediate certificate'
        : '';
    return tlsError(
      'ETLS_CERT_UNTRUSTED',
      `the certificate of ${where} is not issued by a trusted CA (${code})`,
      `pass the issuing CA certificate as tls.ca${chainHint}`,
    );
  }

  // A plaintext server answering our ClientHello: its "220 ..." reads as a TLS record with a bogus version.
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    code === 'ERR_SSL_HTTP_REQUEST' ||
    /wrong version number|packet length too long|http request/.test(text)
  ) {
    const starttlsHint = ctx.phase === 'starttls';
    return tlsError(
      'ETLS_PLAINTEXT_PORT',
      starttlsHint
        ? `${where} answered the TLS handshake after STARTTLS with plaintext`
        : `port ${ctx.port} of ${ctx.host} speaks plaintext, not TLS`,
      starttlsHint
        ? 'the server (or a middlebox) does not really support STARTTLS'
        : `port ${ctx.port} expects STARTTLS — use tls: 'starttls' (implicit TLS is usually port 465)`,
    );
  }

  if (
    /unsupported protocol|protocol version|no protocols available|version too low|unsupported_protocol/.test(
      text,
    ) ||
    code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' ||
    code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'
  ) {
    const min = ctx.minVersion ?? 'TLSv1.2';
    return tlsError(
      'ETLS_VERSION',
      `${where} and this client share no TLS version: we require ${min} or newer and the server offers only older ones`,
      min === 'TLSv1.3'
        ? "lower tls.minVersion to 'TLSv1.2' if the server cannot do TLS 1.3"
        : 'the server should be upgraded (RFC 8996 deprecates TLS 1.0/1.1); only if you must, tls.allowLegacyTls: true',
    );
  }

  if (/no shared cipher|no cipher|handshake failure|insufficient security/.test(text)) {
    return tlsError(
      'ETLS_HANDSHAKE',
      `${handshake} with ${where} failed: no cipher suite or key type in common (${reasonOf(err)})`,
      'the server may only offer obsolete ciphers; check tls.ciphers, or audit the server with `postern audit`',
    );
  }

  if (/certificate required|alert bad certificate|alert unknown ca|alert certificate unknown/.test(text)) {
    return tlsError(
      'ETLS_HANDSHAKE',
      `${where} refused the connection during ${handshake}: it wants a client certificate it trusts (${reasonOf(err)})`,
      'pass a client certificate and key as tls.cert and tls.key',
    );
  }

  if (RESET_CODES.has(code) || /socket disconnected before secure tls connection/.test(text)) {
    return new ConnectionError('ECONNECTION', `${where} closed the connection during ${handshake}`, {
      phase: ctx.phase,
      cause: err,
      transient: true,
      hint:
        ctx.phase === 'tls'
          ? "the server may not speak TLS on this port (try tls: 'starttls'), or a firewall cut the connection"
          : 'the server may have refused the TLS parameters; try again, or audit the server',
    });
  }

  return tlsError(
    'ETLS_HANDSHAKE',
    `${handshake} with ${where} failed: ${reasonOf(err)}`,
    'run `postern audit` against the server to see what it supports',
  );
}

/** The OpenSSL reason or message, without Node's "error:0A00010B:SSL routines::" prefix noise. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const reason = (err as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason) return reason;
  return err.message.replace(/^[0-9A-F]{8,}:error:[0-9A-F]+:[^:]*:[^:]*:/i, '').trim();
}
