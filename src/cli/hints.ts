/**
 * Library hints speak in option names (`tls.ca`, `tls: 'starttls'`); on the command line the same advice is a
 * flag. This rewrites the known spellings; anything else is shown as the library wrote it.
 */
const FLAG_WORDING: readonly (readonly [RegExp, string])[] = [
  [
    /tls: '(implicit|starttls|opportunistic|none)' or '(implicit|starttls|opportunistic|none)'/g,
    '--tls $1 or --tls $2',
  ],
  [/tls: '(implicit|starttls|opportunistic|none)'/g, '--tls $1'],
  [/\btls\.insecureSkipVerify: true\b/g, '--insecure'],
  [/\btls\.allowLegacyTls: true\b/g, 'another client (postern send requires TLS 1.2 or newer)'],
  [/\btls\.cert and tls\.key\b/g, '--client-cert and --client-key'],
  [/\btls\.ca\b/g, '--ca FILE'],
  [/\btls\.pin\b/g, '--pin'],
  [/\btls\.servername\b/g, '--servername'],
  [/\btls\.minVersion to 'TLSv1\.2'/g, '--min-tls to 1.2'],
  [/\btls\.ciphers\b/g, 'the server configuration'],
  [/`authMethod`/g, '--auth MECHANISM'],
  [/pass `auth`/g, 'pass --user (and a password source)'],
  [/set allowPlaintextAuth( only)? for a trusted test server/g, 'use a server that offers TLS'],
  [/ or use family: 4/g, ''],
];

/** The hint reworded for the command line. */
export function cliHint(hint: string): string {
  let out = hint;
  for (const [pattern, replacement] of FLAG_WORDING) out = out.replace(pattern, replacement);
  return out;
}
