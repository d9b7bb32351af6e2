/**
 * `postern audit`: the security audit of an SMTP port or a mail domain.
 */
import { Option } from 'commander';
import { MOZILLA_PROFILES } from '../../audit/profiles.js';
import { GRADES } from '../../audit/types.js';
import { type AuditFlags, EXIT_GRADE, runAudit } from '../audit/run.js';
import type { CliCommand } from '../context.js';
import { examplesHelp } from '../help.js';
import { port, positiveInteger, seconds } from '../options.js';

/** --fail-under F would never fail: every grade but F. */
const GRADE_CHOICES = GRADES.filter((g) => g !== 'F');

export const auditCommand: CliCommand = {
  name: 'audit',
  register(program, context) {
    program
      .command('audit')
      .summary("grade an SMTP server's TLS and SMTP security")
      .description(
        'Test an SMTP port (or with --domain a mail domain: its MX hosts, MTA-STS, TLS-RPT and DANE): protocols\n' +
          'SSLv2 … TLS 1.3, every cipher suite per protocol with hand-built ClientHellos, key exchange groups,\n' +
          'renegotiation, compression, fallback SCSV, resumption, OCSP stapling, the certificate, AUTH before TLS,\n' +
          'STARTTLS injection, VRFY/EXPN — and opt-in SMTP smuggling and relay tests. Ends with a grade A+ … F\n' +
          'and a fix for every finding (docs/audit-grading.md). The mode (implicit TLS or STARTTLS) is detected.',
      )
      .argument('[target]', 'HOST[:PORT] (default port 25)')
      .option('--domain <domain>', 'audit a mail domain: its MX hosts on port 25 and its DNS policy')
      .option('--submission', 'with --domain: also audit ports 587 and 465 of each MX host')
      .option('--tls', 'the port speaks TLS from the start (465); skip detection')
      .option('--starttls', 'the port starts in plaintext (25, 587); skip detection')
      .addOption(
        new Option('--role <role>', 'grade as an MX (opportunistic TLS) or a submission port').choices([
          'mx',
          'submission',
        ]),
      )
      .option('--servername <name>', 'SNI and the name the certificate must match')
      .option('--ca <file>', 'trust these CA certificates instead of the system roots')
      .option('--pin <sha256/base64>', "report whether the server's key matches this SPKI pin")
      .option('--smuggling', 'send one test message per SMTP smuggling ending (needs --from and --to)')
      .option('--relay-test', 'try MAIL/RCPT to an outside domain in the common relay variants (no DATA)')
      .option('--from <address>', 'envelope sender for --smuggling and --relay-test')
      .option('--to <address>', 'a recipient the server accepts, for --smuggling')
      .option('--outside-domain <domain>', 'the outside domain of --relay-test (default example.net)')
      .option('--resolver <host:port>', 'DNS server for --domain (default: the system resolver)')
      .option('--mta-sts-ca <file>', 'trust these CA certificates for the MTA-STS policy server')
      .addOption(new Option('--mta-sts-port <port>', 'HTTPS port of the MTA-STS policy host').argParser(port))
      .addOption(new Option('--mx-port <port>', 'port of the MX hosts instead of 25').argParser(port))
      .addOption(
        new Option('--submission-port <port>', 'with --submission: STARTTLS port instead of 587').argParser(
          port,
        ),
      )
      .addOption(
        new Option('--smtps-port <port>', 'with --submission: implicit-TLS port instead of 465').argParser(
          port,
        ),
      )
      .addOption(
        new Option('--profile <profile>', "also check Mozilla's TLS profile").choices(MOZILLA_PROFILES),
      )
      .option(
        '--json',
        'print the report as JSON (docs/audit-report.schema.json; with --domain audit-domain-report.schema.json)',
      )
      .option('--html <file>', 'also write a self-contained HTML report')
      .addOption(
        new Option('--fail-under <grade>', `exit ${EXIT_GRADE} when the grade is worse than this`).choices(
          GRADE_CHOICES,
        ),
      )
      .addOption(new Option('--timeout <seconds>', 'per-step timeout (default 10)').argParser(seconds))
      .addOption(
        new Option('--concurrency <n>', 'parallel connections of the TLS scan (default 8)').argParser(
          positiveInteger,
        ),
      )
      .addHelpText(
        'after',
        examplesHelp([
          ['a submission port', 'postern audit smtp.example.com:587'],
          [
            'an implicit-TLS port, with an HTML report',
            'postern audit smtp.example.com:465 --html report.html',
          ],
          ['a mail domain with its submission ports', 'postern audit --domain example.com --submission'],
          [
            'the local `postern serve`, trusting its CA',
            'postern audit 127.0.0.1:2525 --ca postern-data/tls/ca.pem --servername localhost',
          ],
          [
            'in CI: fail when the grade drops below A',
            'postern audit mail.example.com:25 --fail-under A --json',
          ],
          [
            'SMTP smuggling test (sends real test messages)',
            'postern audit mail.example.com:25 --smuggling --from audit@example.com --to me@example.com',
          ],
        ]),
      )
      .action(async (target: string | undefined, flags: AuditFlags) => {
        context.exitCode = await runAudit(target, flags, context.output);
      });
  },
};
