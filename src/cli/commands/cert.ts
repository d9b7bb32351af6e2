/**
 * `postern cert create` and `postern cert show`.
 */
import { type Command, Option } from 'commander';
import { type CreateFlags, createFiles } from '../cert/create.js';
import { type ShowFlags, showCertificate } from '../cert/show.js';
import type { CliCommand, CliContext } from '../context.js';
import { examplesHelp } from '../help.js';
import { lookup } from '../lookup.js';
import { collect, positiveInteger, seconds } from '../options.js';

function createCommand(cert: Command, context: CliContext): void {
  cert
    .command('create')
    .summary('make a certificate and key (and a local CA)')
    .description(
      'Write OUT/cert.pem and OUT/key.pem (mode 0600): a self-signed certificate, or with --ca a new local CA\n' +
        '(OUT/ca.pem, OUT/ca-key.pem) and a certificate it signs, or with --issuer one signed by an existing CA.',
    )
    .requiredOption('--cn <name>', 'subject common name, e.g. mail.example.test')
    .addOption(
      new Option(
        '--san <names>',
        'subject alternative names: DNS:name,IP:address (repeatable; default: the CN)',
      )
        .argParser(collect)
        .default([]),
    )
    .addOption(new Option('--days <n>', 'validity in days').argParser(positiveInteger).default(365))
    .addOption(
      new Option('--key <type>', 'key type').choices(['ec', 'rsa2048', 'rsa4096', 'ed25519']).default('ec'),
    )
    .requiredOption('--out <dir>', 'folder to write the files to (created if needed)')
    .option('--ca', 'also create a local CA and sign the certificate with it')
    .option('--issuer <dir>', 'sign with the CA in DIR (ca.pem and ca-key.pem from an earlier --ca)')
    .option('--org <name>', 'organization (O=) for the subject')
    .option('--force', 'replace existing files')
    .addHelpText(
      'after',
      examplesHelp([
        [
          'a self-signed certificate for a test server',
          'postern cert create --cn localhost --san DNS:localhost,IP:127.0.0.1 --out tls',
        ],
        [
          'a local CA and a server certificate it signs (clients trust tls/ca.pem)',
          'postern cert create --ca --cn mail.example.test --out tls',
        ],
        [
          'another certificate from the same CA',
          'postern cert create --issuer tls --cn smtp.example.test --out tls2',
        ],
      ]),
    )
    .action(async (flags: CreateFlags) => {
      await createFiles(flags, context.output);
    });
}

function showCommand(cert: Command, context: CliContext): void {
  cert
    .command('show')
    .summary('inspect a certificate file or the chain a server presents')
    .description(
      'Show subject, alternative names, issuer, validity and days left, key, signature algorithm and SPKI pin of\n' +
        "every certificate, and the chain's problems. For HOST:PORT, connect (implicit TLS, or plaintext + EHLO +\n" +
        'STARTTLS with --starttls), show the chain the server sent, and whether it verifies against the system\n' +
        'roots (or --ca) and why not. Exits 0 whenever it could show the certificates; use --json to script.',
    )
    .argument('<file|host:port>', 'a PEM or DER file, or a server')
    .option('--starttls', 'the port starts in plaintext: EHLO and STARTTLS first (587, 25)')
    .option('--ca <file>', 'check against these CA certificates instead of the system roots')
    .option('--servername <name>', 'the name to check the certificate against (and send as SNI)')
    .addOption(new Option('--timeout <seconds>', 'per-step timeout').argParser(seconds))
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      examplesHelp([
        [
          'a certificate file (and does it chain to this CA?)',
          'postern cert show tls/cert.pem --ca tls/ca.pem',
        ],
        [
          'what a submission server presents after STARTTLS',
          'postern cert show smtp.example.com:587 --starttls',
        ],
        ['an implicit-TLS port', 'postern cert show smtp.example.com:465'],
      ]),
    )
    .action(async (target: string, flags: ShowFlags) => {
      await showCertificate(target, flags, context.output, lookup);
    });
}

export const certCommand: CliCommand = {
  name: 'cert',
  register(program, context) {
    const cert = program
      .command('cert')
      .summary('create and inspect TLS certificates')
      .description('Create certificates (no OpenSSL needed) and inspect files or servers.');
    createCommand(cert, context);
    showCommand(cert, context);
  },
};
