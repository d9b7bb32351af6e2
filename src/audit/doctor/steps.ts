/**
 * The verdicts of `postern doctor`, one per step: what happened, in words, and the exact change that fixes it.
 * Fixes are written as `postern send` flags.
 */
import { isPosternError, type PosternError } from '../../core/index.js';
import type { CertificateInfo } from '../../tls/index.js';
import { terminalSafe } from '../render-text.js';
import type { Spoken } from './port.js';

export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'skip';
export type DoctorStepName =
  | 'dns'
  | 'tcp'
  | 'protocol'
  | 'tls'
  | 'ehlo'
  | 'starttls'
  | 'auth-mechanisms'
  | 'auth'
  | 'mail';

export interface DoctorStep {
  readonly step: DoctorStepName;
  readonly status: DoctorStatus;
  /** One line: what was found. */
  readonly verdict: string;
  /** More about it (the server's words, the certificate, the addresses). */
  readonly detail?: string | undefined;
  /** What to change, as flags of `postern send` or a word to the server's operator. */
  readonly fix?: string | undefined;
  /** The error code behind a failure (ECONNREFUSED, ETLS_CERT_UNTRUSTED, EAUTH_FAILED, …). */
  readonly code?: string | undefined;
}

/** The mode a session runs in once the port has been sniffed. */
export type SessionMode = 'implicit' | 'starttls' | 'none';

export function step(
  name: DoctorStepName,
  status: DoctorStatus,
  verdict: string,
  more: Omit<DoctorStep, 'step' | 'status' | 'verdict'> = {},
): DoctorStep {
  return { step: name, status, verdict, ...more };
}

/** The message of an error without the hint PosternError appends. */
export function said(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = isPosternError(err) ? err.hint : undefined;
  return hint && err.message.endsWith(` — ${hint}`) ? err.message.slice(0, -hint.length - 3) : err.message;
}

/** A failed step from an error: its message, and its hint as the fix unless a better one is given. */
export function failed(name: DoctorStepName, err: unknown, fix?: string, detail?: string): DoctorStep {
  const e = isPosternError(err) ? (err as PosternError) : undefined;
  return step(name, 'fail', said(err), { fix: fix ?? e?.hint, code: e?.code, detail });
}

export function tcpFailure(port: number, err: PosternError): DoctorStep {
  if (err.code === 'ECONNREFUSED') {
    return step(
      'tcp',
      'fail',
      `port ${port} is closed: the host refused the connection (nothing listens there)`,
      {
        code: err.code,
        detail: said(err),
        fix: 'check the port: submission is 587 (--tls starttls) or 465 (--tls implicit); is the mail server running?',
      },
    );
  }
  if (err.code === 'ECONNECT_TIMEOUT') {
    return step('tcp', 'fail', `port ${port} is filtered: no answer at all, the packets are dropped`, {
      code: err.code,
      detail: said(err),
      fix:
        'a firewall between here and the server drops the connection (many networks block outgoing port 25); ' +
        'try 587 or 465, or ask the network administrator',
    });
  }
  return failed('tcp', err);
}

/** The protocol step, and the mode the rest of the doctor goes on with (undefined: stop). */
export function protocolStep(
  requested: SessionMode | undefined,
  port: number,
  spoken: Spoken,
): { step: DoctorStep; mode?: SessionMode } {
  switch (spoken.kind) {
    case 'smtp': {
      const greeting = terminalSafe(spoken.greeting);
      if (!greeting.startsWith('2') && greeting !== '(plaintext)') {
        const busy = greeting.startsWith('4');
        return {
          step: step('protocol', 'fail', `the server greets with a refusal: "${greeting}"`, {
            code: 'ESMTP_REJECTED',
            fix: busy
              ? 'the server is busy or shutting down: try again later'
              : "the server's access rules refuse this address or network; ask its operator",
          }),
        };
      }
      if (requested === 'implicit') {
        return {
          step: step('protocol', 'fail', `port ${port} speaks plaintext SMTP, not implicit TLS`, {
            code: 'ETLS_PLAINTEXT_PORT',
            detail: `greeting: ${greeting}`,
            fix: 'use --tls starttls: this port starts in plaintext and upgrades to TLS with STARTTLS',
          }),
          mode: 'starttls',
        };
      }
      return {
        step: step('protocol', 'ok', `plaintext SMTP: ${greeting}`),
        mode: requested === 'none' ? 'none' : 'starttls',
      };
    }
    case 'tls': {
      const what = spoken.version ? `TLS from the first byte (${spoken.version})` : 'TLS from the first byte';
      const detail = spoken.refused ? `the ClientHello was answered in TLS: ${spoken.refused}` : undefined;
      if (requested === 'starttls' || requested === 'none') {
        return {
          step: step('protocol', 'fail', `port ${port} speaks ${what}: it never greets in plaintext`, {
            code: 'ECONFIG',
            detail,
            fix: 'use --tls implicit: this port expects the TLS handshake at once (implicit TLS, like 465)',
          }),
          mode: 'implicit',
        };
      }
      return { step: step('protocol', 'ok', `implicit TLS: ${what}`, { detail }), mode: 'implicit' };
    }
    case 'other':
      return {
        step: step(
          'protocol',
          'fail',
          `port ${port} does not speak SMTP: it sent "${terminalSafe(spoken.sample)}"`,
          {
            code: 'EPROTOCOL',
            fix: 'check the port number: submission is 587 or 465',
          },
        ),
      };
    case 'silent':
      return {
        step: step('protocol', 'fail', `port ${port} accepts connections but stays silent`, {
          code: 'ETIMEOUT',
          detail: 'no SMTP greeting, and no answer to a TLS ClientHello',
          fix: 'check the port number; a proxy or firewall may be holding the connection, or the server is overloaded',
        }),
      };
    case 'closed':
      return {
        step: step('protocol', 'fail', `port ${port} closes the connection without a word`, {
          code: 'ECONNECTION',
          fix: "the server may refuse this client's address (see its logs), or the service is not SMTP",
        }),
      };
  }
}

/** The certificate in one line; its names come from the server, so they are made safe for a terminal. */
export function certificateText(cert: CertificateInfo): string {
  const names = cert.altNames.length > 0 ? cert.altNames.join(', ') : '(no alternative names)';
  const until = cert.validTo.toISOString().slice(0, 10);
  return terminalSafe(
    `certificate ${cert.subject} for ${names}, issued by ${cert.issuer}, valid until ${until} (${cert.daysLeft} days left)`,
  );
}

/** A host name as a command line may carry it: letters, digits, hyphens and dots (A-labels for IDNs). */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The first DNS name of a certificate that is a plain host name: what to connect as (or pass as --servername). */
export function certificateName(cert: CertificateInfo | undefined): string | undefined {
  const dns = cert?.altNames.find((n) => n.startsWith('DNS:') && HOST_NAME.test(n.slice(4)));
  return dns?.slice(4);
}

export interface TlsFailureContext {
  readonly host: string;
  readonly port: number;
  /** The --ca file, when one was given. */
  readonly caFile?: string | undefined;
  /** The server's certificate as seen without verifying it. */
  readonly certificate?: CertificateInfo | undefined;
  /** The version a handshake that allows TLS 1.0/1.1 and weak ciphers negotiated, when that one succeeded. */
  readonly legacy?: { readonly version: string; readonly cipher: string } | undefined;
}

/** The TLS step when the handshake (or the certificate check) failed. */
export function tlsFailure(err: PosternError, c: TlsFailureContext): DoctorStep {
  const detail = c.certificate ? certificateText(c.certificate) : undefined;
  const fail = (verdict: string, fix: string) =>
    step('tls', 'fail', verdict, { code: err.code, detail, fix });
  const issuer = c.certificate ? terminalSafe(c.certificate.issuer) : 'its issuer';
  switch (err.code) {
    case 'ETLS_CERT_UNTRUSTED':
      return fail(
        c.caFile
          ? `the certificate is not issued by a CA in ${c.caFile}`
          : 'the certificate is not issued by a CA this computer trusts',
        c.caFile
          ? `${c.caFile} does not hold the CA that issued the certificate (${issuer}): pass that CA's certificate with --ca FILE`
          : `pass the certificate of the CA that issued it (${issuer}) with --ca FILE; if that is a public CA, ` +
              'the server does not send its intermediate certificate and its operator must add it',
      );
    case 'ETLS_CERT_SELF_SIGNED':
      return fail(
        'the server presents a self-signed certificate',
        'if you trust this server, save its certificate (postern cert show HOST:PORT prints it) and pass it with --ca FILE',
      );
    case 'ETLS_CERT_EXPIRED':
      return fail(
        said(err),
        "the server's operator must renew the certificate; if the date looks wrong, check this computer's clock",
      );
    case 'ETLS_CERT_NOT_YET_VALID':
      return fail(said(err), 'check the clocks of this computer and of the server (NTP)');
    case 'ETLS_CERT_NAME_MISMATCH': {
      const name = certificateName(c.certificate);
      return fail(
        said(err),
        name
          ? `connect by a name the certificate holds: --host ${name}, or keep the address and add --servername ${name}`
          : 'the certificate names no host; its operator must issue one for the name clients use',
      );
    }
    case 'ETLS_PIN_MISMATCH':
      return fail(said(err), err.hint ?? 'update the pin');
    case 'ETLS_VERSION':
    case 'ETLS_HANDSHAKE':
      if (c.legacy) {
        const old = c.legacy.version === 'TLSv1' || c.legacy.version === 'TLSv1.1';
        return fail(
          old
            ? `the server offers only ${c.legacy.version}, which postern refuses (TLS 1.2 is the minimum, RFC 8996)`
            : `the server offers only ciphers OpenSSL considers insecure (${c.legacy.cipher})`,
          old
            ? "the server's operator must enable TLS 1.2 or 1.3 (Postfix: smtpd_tls_protocols = >=TLSv1.2)"
            : "the server's operator must enable modern ciphers (ECDHE with AES-GCM or ChaCha20)",
        );
      }
      return fail(said(err), err.hint ?? 'audit the server with `postern audit` to see what it supports');
    default:
      return failed('tls', err);
  }
}
