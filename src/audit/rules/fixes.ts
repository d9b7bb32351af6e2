/**
 * The fixes findings point to: what to change, written as the concrete setting for Postfix (main.cf, or master.cf
 * where a port differs), Exim (the main configuration; OpenSSL builds unless noted) and Postern's own server.
 * Kept in one place so the same advice reads the same in every finding that needs it.
 */
import type { Fix } from './common.js';

const POSTFIX_PROTOCOLS =
  'smtpd_tls_protocols = >=TLSv1.2\nsmtpd_tls_mandatory_protocols = >=TLSv1.2  (Postfix < 3.6: !SSLv2, !SSLv3, !TLSv1, !TLSv1.1)';
const POSTERN_DEFAULT_PROFILE =
  "new SmtpServer({ profile: 'intermediate' }) — the default: TLS 1.2+ with forward-secret AEAD suites only";

export const FIXES = {
  legacyProtocols: {
    summary: 'Turn off SSLv2, SSLv3, TLS 1.0 and TLS 1.1; offer TLS 1.2 and TLS 1.3.',
    postfix: POSTFIX_PROTOCOLS,
    exim: 'openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1\n(GnuTLS builds: tls_require_ciphers = NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2)',
    postern: POSTERN_DEFAULT_PROFILE,
  },
  legacyProtocolsMx: {
    summary:
      'Turn off TLS 1.0 and 1.1. On port 25 check your logs first: a sender that cannot do TLS 1.2 falls back to plaintext rather than bouncing.',
    postfix: POSTFIX_PROTOCOLS,
    exim: 'openssl_options = +no_sslv2 +no_sslv3 +no_tlsv1 +no_tlsv1_1',
    postern: POSTERN_DEFAULT_PROFILE,
  },
  tls12: {
    summary: 'Upgrade the TLS library (OpenSSL ≥ 1.1.1) so the server offers TLS 1.2 and TLS 1.3.',
    postfix: 'Postfix linked with OpenSSL ≥ 1.1.1, and smtpd_tls_protocols = >=TLSv1.2',
    exim: 'Exim built with OpenSSL ≥ 1.1.1 or GnuTLS ≥ 3.6.5',
    postern: 'Node.js ≥ 20 offers TLS 1.2 and 1.3 with every profile',
  },
  tls13: {
    summary: 'Offer TLS 1.3 (OpenSSL ≥ 1.1.1): faster handshakes, forward secrecy and AEAD by construction.',
    postfix: 'Postfix ≥ 3.4 with OpenSSL ≥ 1.1.1; smtpd_tls_protocols must not exclude TLSv1.3',
    exim: 'Exim ≥ 4.92 with OpenSSL ≥ 1.1.1; do not set +no_tlsv1_3 in openssl_options',
    postern: "Every profile offers TLS 1.3; 'modern' offers only TLS 1.3",
  },
  weakCiphers: {
    summary: 'Offer only strong suites: exclude NULL, anonymous, EXPORT, DES, RC4, 3DES, IDEA, RC2 and MD5.',
    postfix:
      'smtpd_tls_ciphers = high\nsmtpd_tls_mandatory_ciphers = high\nsmtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, RC4, 3DES, MD5, IDEA, RC2',
    exim: 'tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!MD5:!RC4:!3DES',
    postern: POSTERN_DEFAULT_PROFILE,
  },
  anonCiphers: {
    summary:
      'Exclude anonymous (aNULL) suites: they skip the certificate, so a man in the middle needs no key at all.',
    postfix: 'smtpd_tls_exclude_ciphers = aNULL, eNULL',
    exim: 'tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL',
    postern: 'Postern never offers anonymous suites',
  },
  cbc: {
    summary:
      'Prefer AEAD suites (AES-GCM, ChaCha20-Poly1305); CBC suites are only for clients from before 2014.',
    postfix:
      'tls_high_cipherlist = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20\nsmtpd_tls_ciphers = high',
    exim: 'tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20',
    postern: POSTERN_DEFAULT_PROFILE,
  },
  forwardSecrecy: {
    summary:
      'Offer ECDHE (and DHE) suites first and drop static RSA key exchange, so a stolen key opens no old mail.',
    postfix:
      'tls_high_cipherlist = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20\nsmtpd_tls_ciphers = high\ntls_eecdh_auto_curves = X25519 prime256v1 secp384r1',
    exim: 'tls_require_ciphers = ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM\ntls_eccurve = auto',
    postern: POSTERN_DEFAULT_PROFILE,
  },
  serverPreference: {
    summary:
      'Let the server choose the suite by its own order while it still offers weak ones (or drop the weak ones).',
    postfix: 'tls_preempt_cipherlist = yes',
    exim: 'openssl_options = +cipher_server_preference',
    postern:
      "new SmtpServer({ profile: 'old' }) honours the server's order; 'intermediate' offers only strong suites",
  },
  dhParams: {
    summary: 'Use DH parameters of at least 2048 bits (the RFC 7919 ffdhe2048 group or larger), or drop DHE.',
    postfix:
      'smtpd_tls_dh1024_param_file = /etc/postfix/ffdhe3072.pem  (the name is historic: any size works; the built-in prime is 2048 bits since Postfix 3.1, and Postfix ≥ 3.7 with OpenSSL 3 lets OpenSSL choose when the setting is empty or "auto")',
    exim: 'tls_dhparam = ffdhe3072',
    postern: 'Postern offers DHE only with OpenSSL’s built-in 2048-bit (or larger) groups',
  },
  renegotiation: {
    summary: 'Upgrade the TLS library: every OpenSSL since 0.9.8m supports secure renegotiation (RFC 5746).',
    postfix: 'Postfix linked with a current OpenSSL; tls_ssl_options = NO_RENEGOTIATION (Postfix ≥ 3.4)',
    exim: 'Exim built with a current OpenSSL or GnuTLS',
    postern: 'Node.js supports RFC 5746 and refuses client-initiated renegotiation storms',
  },
  compression: {
    summary: 'Turn off TLS compression (CRIME).',
    postfix: 'tls_ssl_options = NO_COMPRESSION',
    exim: 'openssl_options = +no_compression',
    postern: 'Node.js never compresses TLS',
  },
  fallbackScsv: {
    summary:
      'Upgrade the TLS library (OpenSSL ≥ 1.0.1j) so a forced downgrade is refused — or offer only TLS 1.2 and 1.3.',
    postfix: 'Postfix linked with OpenSSL ≥ 1.0.1j, or smtpd_tls_protocols = >=TLSv1.2',
    exim: 'Exim built with OpenSSL ≥ 1.0.1j',
    postern: 'Node.js honours TLS_FALLBACK_SCSV',
  },
  certificate: {
    summary:
      'Install a certificate from a public CA (e.g. Let’s Encrypt) for the name clients connect to, with the full chain.',
    postfix:
      'smtpd_tls_chain_files = /etc/letsencrypt/live/mail.example.com/privkey.pem, /etc/letsencrypt/live/mail.example.com/fullchain.pem',
    exim: 'tls_certificate = /etc/letsencrypt/live/mail.example.com/fullchain.pem\ntls_privatekey = /etc/letsencrypt/live/mail.example.com/privkey.pem',
    postern:
      "postern serve --cert fullchain.pem --key privkey.pem (library: tls: { certFile: 'fullchain.pem', keyFile: 'privkey.pem' })",
  },
  renewal: {
    summary:
      'Renew the certificate now and automate renewal (certbot renew, with a deploy hook that reloads the server).',
    postfix: 'certbot renew --deploy-hook "postfix reload"',
    exim: 'certbot renew --deploy-hook "systemctl reload exim4"',
    postern:
      'postern serve re-reads --cert/--key on SIGHUP: certbot renew --deploy-hook "systemctl reload postern"',
  },
  rsaKey: {
    summary: 'Issue a new certificate with an RSA 2048/3072-bit or an ECDSA P-256 key.',
    postfix: 'certbot certonly --key-type ecdsa -d mail.example.com, then smtpd_tls_chain_files as above',
    exim: 'certbot certonly --key-type ecdsa -d mail.example.com, then tls_certificate/tls_privatekey as above',
    postern: 'postern cert creates ECDSA P-256 keys; for a public CA: certbot certonly --key-type ecdsa',
  },
  signature: {
    summary: 'Reissue the certificate (and any intermediate) signed with SHA-256 or better.',
  },
  ocsp: {
    summary:
      'Optional for mail: staple an OCSP response so clients need not ask the CA (few mail clients check revocation).',
    postfix: 'Postfix does not staple OCSP responses; nothing to change',
    exim: 'tls_ocsp_file = /var/lib/exim4/ocsp.der  (refreshed by a cron job with openssl ocsp)',
    postern: 'Postern does not staple OCSP responses yet',
  },
  authTlsOnly: {
    summary: 'Offer and accept AUTH only after STARTTLS, so no password ever crosses the network in clear.',
    postfix: 'smtpd_tls_auth_only = yes',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Exim expansion syntax
    exim: 'In each authenticator: server_advertise_condition = ${if def:tls_in_cipher}',
    postern:
      'Leave auth.allowPlaintextAuth unset (the default); add requireTls: true (postern serve --require-tls)',
  },
  handshake: {
    summary:
      'Make TLS work: a certificate and key loaded, TLS 1.2/1.3 enabled, and on port 465 TLS from the first byte.',
    postfix:
      'smtpd_tls_chain_files = …/privkey.pem, …/fullchain.pem\nmaster.cf service submissions (465; older master.cf files call it smtps): -o smtpd_tls_wrappermode=yes',
    exim: 'tls_certificate = …/fullchain.pem\ntls_privatekey = …/privkey.pem\ntls_on_connect_ports = 465',
    postern: 'postern serve --listen tls://0.0.0.0:465 --cert fullchain.pem --key privkey.pem',
  },
  starttls: {
    summary: 'Offer STARTTLS with a certificate; on submission ports require it before AUTH and MAIL.',
    postfix:
      'smtpd_tls_security_level = may  (port 25)\nmaster.cf submission: -o smtpd_tls_security_level=encrypt\nsmtpd_tls_chain_files = …/privkey.pem, …/fullchain.pem',
    exim: 'tls_advertise_hosts = *\ntls_certificate = …/fullchain.pem\ntls_privatekey = …/privkey.pem',
    postern:
      'postern serve --listen starttls://0.0.0.0:587 --require-tls (library: endpoints: [{ port: 587, tls: "starttls" }])',
  },
  starttlsAfterTls: {
    summary:
      'Do not advertise STARTTLS inside TLS (RFC 3207 §4.2). Usually a proxy or filter in front of the server re-sends the plaintext EHLO: fix or remove it.',
    postfix: 'Postfix never does this itself; look at the proxy/filter in front of smtpd',
    exim: 'Exim never does this itself; look at the proxy/filter in front of it',
  },
  injection: {
    summary:
      'Upgrade: the server must discard input it buffered before the TLS handshake (CVE-2011-0411 and its relatives).',
    postfix:
      'Upgrade Postfix: every release since March 2011 discards plaintext input after STARTTLS (CVE-2011-0411)',
    exim: 'A current Exim (its STARTTLS input handling is fixed); if a filter or proxy terminates TLS, upgrade that',
    postern: 'Postern refuses commands pipelined after STARTTLS and closes the connection',
  },
  vrfy: {
    summary: 'Turn off VRFY/EXPN (or answer 252) so the server cannot be used to find valid addresses.',
    postfix: 'disable_vrfy_command = yes  (Postfix never implements EXPN)',
    exim: 'Leave acl_smtp_vrfy and acl_smtp_expn unset: without an ACL Exim refuses EXPN and answers VRFY with 252 (older releases refuse it). Or deny both: acl_smtp_vrfy = acl_check_vrfy with an ACL "acl_check_vrfy: deny"',
    postern: 'Postern answers VRFY with 252 and has no EXPN',
  },
  smuggling: {
    summary:
      'Accept only <CRLF>.<CRLF> as end of data and reject bare CR or LF in DATA (SMTP smuggling, CVE-2023-51764/51765/51766).',
    postfix:
      'smtpd_forbid_bare_newline = normalize  (Postfix ≥ 3.8.5, 3.7.10, 3.6.14, 3.5.24; the default from 3.9)\nsmtpd_data_restrictions = reject_unauth_pipelining',
    exim: 'Exim ≥ 4.97.1 (fixed CVE-2023-51766)',
    postern: "bareLineEndings: 'reject' — the default",
  },
  relay: {
    summary:
      'Relay only for your own networks and authenticated users; refuse every other recipient outside your domains.',
    postfix:
      'smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination\nmynetworks = 127.0.0.0/8 [::1]/128',
    exim: 'hostlist relay_from_hosts = localhost\nacl_check_rcpt: require domains = +local_domains : +relay_to_domains, unless authenticated or from relay_from_hosts',
    postern: 'postern serve --require-auth (library: auth: { store, requireAuth: true })',
  },
  mtaSts: {
    summary:
      'Publish an MTA-STS policy (RFC 8461): TXT _mta-sts.example.com "v=STSv1; id=20250101T000000" and https://mta-sts.example.com/.well-known/mta-sts.txt with "version: STSv1 / mode: enforce / mx: mail.example.com / max_age: 604800". Start with mode: testing plus TLS-RPT, then move to enforce.',
  },
  mtaStsEnforce: {
    summary:
      'Once TLS-RPT reports show no failures, switch the policy to "mode: enforce" and change the id in the _mta-sts TXT record.',
  },
  mtaStsMx: {
    summary:
      'List every MX host in the policy ("mx: mail.example.com" or "mx: *.example.com") and change the id in the _mta-sts TXT record.',
  },
  mtaStsMaxAge: {
    summary: 'Use max_age of at least one week (604800); RFC 8461 suggests weeks, up to 31557600.',
  },
  tlsRpt: {
    summary:
      'Publish a TLS-RPT record (RFC 8460) to receive reports of failed TLS deliveries: TXT _smtp._tls.example.com "v=TLSRPTv1; rua=mailto:tlsrpt@example.com".',
  },
  dane: {
    summary:
      'Sign the zone with DNSSEC and publish a DANE-EE record of the server key (RFC 7672): _25._tcp.mail.example.com. TLSA 3 1 1 <SHA-256 of the SPKI>. Keep the key across renewals (certbot --reuse-key) or publish the next key first.',
  },
  daneMismatch: {
    summary:
      'Publish the TLSA record of the key the server presents now (3 1 1 <SHA-256 of its SPKI>) — DANE senders defer all mail until it matches. Roll keys by publishing the new record a few TTLs before switching.',
  },
  dnssec: {
    summary:
      'Sign the zone with DNSSEC (and the DS record at the parent): unsigned TLSA records are ignored.',
  },
  daneUsage: {
    summary:
      'Use usage 3 (DANE-EE) or 2 (DANE-TA); senders ignore usages 0 and 1 for SMTP (RFC 7672 §3.1.3).',
  },
} satisfies Record<string, Fix>;

/** A TLSA 3 1 1 record for a key: the concrete DANE fix when the report has the server's SPKI hash. */
export function tlsaRecord(host: string, port: number, spkiSha256Base64: string): string {
  return `_${port}._tcp.${host.replace(/\.$/, '')}. IN TLSA 3 1 1 ${Buffer.from(spkiSha256Base64, 'base64').toString('hex')}`;
}
