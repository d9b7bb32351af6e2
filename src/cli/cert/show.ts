/**
 * `postern cert show FILE | HOST:PORT`: every certificate of the chain, what the handshake said about it and the
 * chain's problems, as text or JSON.
 */
import type { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { checkCertificate } from '../../audit/certificate.js';
import { isPosternError, type PosternError } from '../../core/index.js';
import { connectTcp } from '../../net/index.js';
import { type CertificateInfo, classifyTlsError, isIpLiteral } from '../../tls/index.js';
import { CliError } from '../cli-error.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { describeError, type Output } from '../output.js';
import { readInputFile } from '../send/message.js';
import { analyseChain, type ChainAnalysis, readCertificates, toChainCertificate } from './chain.js';

export interface ShowFlags {
  readonly starttls?: boolean | undefined;
  readonly ca?: string | undefined;
  readonly servername?: string | undefined;
  readonly timeout?: number | undefined;
  readonly json?: boolean | undefined;
}

interface Shown {
  readonly source: string;
  readonly analysis: ChainAnalysis;
  readonly connection?: { readonly version: string; readonly cipher: string; readonly identity: string };
  /** Present for servers: the verdict of a real handshake. */
  readonly verifyError?: PosternError | undefined;
  readonly verifiedAgainst: string;
}

/** "host:port", "[v6]:port": the target, or undefined when `text` is not one. */
export function parseTarget(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:/\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

async function anchorsFrom(path: string | undefined): Promise<{ pem?: Buffer; certs?: X509Certificate[] }> {
  if (path === undefined) return {};
  const pem = await readInputFile(path, 'CA file');
  const certs = readCertificates(pem).map((c) => c.x509);
  if (certs.length === 0) throw new CliError(EXIT.DATA, `--ca ${path} holds no certificate`);
  return { pem, certs };
}

/** Shows a file's certificates or a server's chain. */
export async function showCertificate(
  target: string,
  flags: ShowFlags,
  output: Output,
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>,
): Promise<void> {
  const anchors = await anchorsFrom(flags.ca);
  const server = existsSync(target) ? undefined : parseTarget(target);
  let shown: Shown;
  if (server === undefined) {
    const bytes = await readInputFile(target, 'certificate file');
    let chain: ReturnType<typeof readCertificates>;
    try {
      chain = readCertificates(bytes);
    } catch (err) {
      throw new CliError(EXIT.DATA, `${target} is not a certificate (PEM or DER)`, { cause: err });
    }
    if (chain.length === 0) {
      throw new CliError(EXIT.DATA, `${target} holds no certificate`, {
        hint: 'a certificate file starts with -----BEGIN CERTIFICATE-----',
      });
    }
    shown = {
      source: target,
      analysis: analyseChain(chain, { anchors: anchors.certs }),
      verifiedAgainst: flags.ca ?? '',
    };
  } else {
    const fetched = await fetchChain(server, flags, anchors.pem, lookup).catch((err: unknown) => {
      throw isPosternError(err) && err.code === 'ETLS_PLAINTEXT_PORT' && !flags.starttls
        ? new CliError(exitCodeFor(err), describeError(err).message, {
            hint: `port ${server.port} starts in plaintext: add --starttls`,
            cause: err,
          })
        : err;
    });
    const chain = fetched.chain.map(toChainCertificate);
    shown = {
      source: target,
      analysis: analyseChain(chain, { anchors: anchors.certs, host: fetched.identity }),
      connection: { version: fetched.version, cipher: fetched.cipher, identity: fetched.identity },
      verifyError: fetched.verifyError,
      verifiedAgainst: flags.ca ?? 'the system roots',
    };
  }
  if (flags.json) output.print(JSON.stringify(toJson(shown)));
  else print(shown, output);
}

type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

/**
 * The chain `server` presents and its verdict, by the certificate probe of `postern audit`. The name is resolved
 * here, with the CLI's lookup (names under .invalid never reach DNS), to the first address that accepts a
 * connection; the probe then connects to that address and checks the certificate against the name.
 */
async function fetchChain(
  server: { host: string; port: number },
  flags: ShowFlags,
  ca: Buffer | undefined,
  lookup: Lookup | undefined,
) {
  const timeout = (flags.timeout ?? 15) * 1000;
  const { socket, address } = await connectTcp({
    host: server.host,
    port: server.port,
    connectTimeout: timeout,
    ...(lookup ? { lookup } : {}),
  });
  socket.destroy();
  const servername = flags.servername ?? (isIpLiteral(server.host) ? undefined : server.host);
  const phase = flags.starttls ? 'starttls' : 'tls';
  const result = await checkCertificate(
    { host: address, port: server.port, mode: flags.starttls ? 'starttls' : 'implicit', servername, timeout },
    { ca },
  );
  const identity = servername ?? server.host;
  const chain = result.chain.map((c) => Buffer.from(c.der, 'base64'));
  // The same words a failed `postern send` would use: a chain problem first, else the name.
  const code = !result.trusted
    ? (result.verifyError ?? 'CERT_REJECTED')
    : result.nameMatches
      ? undefined
      : 'ERR_TLS_CERT_ALTNAME_INVALID';
  const verifyError: PosternError | undefined =
    code === undefined
      ? undefined
      : classifyTlsError(Object.assign(new Error(`certificate verification failed: ${code}`), { code }), {
          host: server.host,
          port: server.port,
          phase,
          peerCertificate: chain[0],
          servername: identity === server.host ? undefined : identity,
        });
  return { chain, ...result.negotiated, identity, verifyError };
}

const CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function keyText(info: CertificateInfo): string {
  switch (info.keyType) {
    case 'ec':
      return `EC ${CURVES[info.curve ?? ''] ?? `${info.keyBits ?? '?'} bits`}${info.curve ? ` (${info.curve})` : ''}`;
    case 'rsa':
    case 'rsa-pss':
    case 'dsa':
      return `${info.keyType.toUpperCase()} ${info.keyBits ?? '?'} bits`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return info.keyType;
  }
}

function when(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function print(shown: Shown, output: Output): void {
  const s = output.out;
  const row = (label: string, value: string) => output.print(`  ${s.dim(label.padEnd(11))} ${value}`);
  const { certificates, problems, notes } = shown.analysis;
  certificates.forEach((cert, i) => {
    const info = cert.info;
    const role = i === 0 ? 'leaf' : info.selfSigned ? 'root' : 'intermediate';
    output.print(s.bold(`Certificate ${i + 1} of ${certificates.length} (${role})`));
    row('subject', info.subject);
    row('alt names', info.altNames.length ? info.altNames.join(', ') : s.yellow('(none)'));
    row('issuer', info.selfSigned ? `${info.issuer} ${s.dim('(self-signed)')}` : info.issuer);
    const left =
      info.daysLeft < 0
        ? s.red(`expired ${-info.daysLeft} days ago`)
        : info.daysLeft < 30
          ? s.yellow(`${info.daysLeft} days left`)
          : `${info.daysLeft} days left`;
    row('valid', `${when(info.validFrom)} → ${when(info.validTo)} (${left})`);
    row('key', keyText(info));
    row('signature', info.signatureAlgorithm);
    if (info.isCa) row('CA', 'yes');
    row('SPKI pin', `sha256/${info.spkiSha256}`);
    row('SHA-256', info.fingerprintSha256);
    row('serial', info.serialNumber);
    output.print();
  });
  if (shown.connection) {
    output.print(`${s.bold('Connection')}  ${shown.connection.version}, ${shown.connection.cipher}`);
    if (shown.verifyError) {
      const { message, hint } = describeError(shown.verifyError);
      output.print(
        `${s.bold('Trust')}       ${s.red('✗ does not verify')} against ${shown.verifiedAgainst}: ${message}`,
      );
      if (hint) output.print(`            ${s.dim(`hint: ${hint}`)}`);
    } else {
      output.print(
        `${s.bold('Trust')}       ${s.green('✓ verifies')} against ${shown.verifiedAgainst} for "${shown.connection.identity}"`,
      );
    }
  } else if (shown.analysis.reachesAnchor !== undefined) {
    output.print(
      `${s.bold('Trust')}       ${shown.analysis.reachesAnchor ? s.green('✓ chains to') : s.red('✗ does not chain to')} ${shown.verifiedAgainst}`,
    );
  }
  if (problems.length === 0 && shown.verifyError)
    output.print(`${s.bold('Problems')}    only the trust failure above`);
  else if (problems.length === 0) output.print(`${s.bold('Problems')}    ${s.green('none found')}`);
  else {
    output.print(s.bold('Problems'));
    for (const problem of problems) output.print(`  ${s.red('✗')} ${problem}`);
  }
  if (notes.length > 0) {
    output.print(s.bold('Notes'));
    for (const note of notes) output.print(`  · ${note}`);
  }
}

function toJson(shown: Shown) {
  const error = shown.verifyError ? describeError(shown.verifyError) : undefined;
  return {
    source: shown.source,
    certificates: shown.analysis.certificates.map(({ info }) => ({
      ...info,
      validFrom: info.validFrom.toISOString(),
      validTo: info.validTo.toISOString(),
    })),
    connection: shown.connection ?? null,
    verified: shown.connection ? shown.verifyError === undefined : (shown.analysis.reachesAnchor ?? null),
    verifyError: error
      ? { code: shown.verifyError!.code, message: error.message, hint: error.hint ?? null }
      : null,
    problems: shown.analysis.problems,
    notes: shown.analysis.notes,
  };
}
