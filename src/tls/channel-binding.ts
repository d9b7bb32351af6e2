/**
 * Channel binding data for SCRAM-*-PLUS (shared/RFCS.md: RFC 5929, RFC 9266).
 * The socket-level half (reading the peer certificate, exporting keying material) lives in net/.
 */
import { createHash } from 'node:crypto';
import { parseCertificate, signatureHash } from './x509-der.js';

/** RFC 9266 §2: the exporter label for "tls-exporter", 32 bytes, empty context. */
export const TLS_EXPORTER_LABEL = 'EXPORTER-Channel-Binding';
export const TLS_EXPORTER_LENGTH = 32;

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

/**
 * RFC 5929 §4.1 "tls-server-end-point": the hash of the server certificate (DER, octet for octet),
 * using the hash of the certificate's signature algorithm — upgraded to SHA-256 when that is MD5 or SHA-1.
 *
 * Returns undefined when the signature algorithm has no single hash (Ed25519/Ed448, which RFC 5929 predates)
 * or is unknown: there is no agreed value then, and OpenSSL-based peers (PostgreSQL, Dovecot) refuse too,
 * so guessing SHA-256 or SHA-512 would only produce a binding the server rejects. Callers should fall back
 * to "tls-exporter" (TLS 1.3) or a non-PLUS mechanism.
 *
 * @example tlsServerEndPoint(socket.getPeerCertificate().raw)
 */
export function tlsServerEndPoint(certDer: Buffer): Buffer | undefined {
  const hash = signatureHash(parseCertificate(certDer));
  if (hash === undefined) return undefined;
  const effective = hash === 'md5' || hash === 'sha1' ? 'sha256' : hash;
  return createHash(effective).update(certDer).digest();
}
