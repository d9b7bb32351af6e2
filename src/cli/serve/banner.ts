/**
 * What `postern serve` prints once it listens (on stderr, so stdout carries only the log — JSON lines with
 * --json-logs): where it listens, where things are kept, the test user's password when it was just created,
 * and the exact `postern send` and swaks commands that try it, with the CA to trust.
 */
import { resolve } from 'node:path';
import type { ListeningAddress } from '../../server/index.js';
import { defaultUsersFile } from '../defaults.js';
import type { Output } from '../output.js';
import { formatByteSize } from './byte-size.js';
import { connectableHost, hostPort } from './listen-address.js';
import type { TestUser } from './test-user.js';

export interface BannerFacts {
  readonly addresses: readonly ListeningAddress[];
  /** The auto certificate's CA file (undefined with --cert/--key). */
  readonly caFile: string | undefined;
  /** --cert, when given. */
  readonly certFile: string | undefined;
  readonly usersFile: string;
  readonly userNames: readonly string[];
  readonly maildir: string;
  readonly testUser: TestUser | undefined;
  readonly requireTls: boolean;
  readonly requireAuth: boolean;
  readonly maxSize: number;
  readonly hostname: string;
}

/** The environment variable the printed commands read the password from. */
export const PASSWORD_VARIABLE = 'SMTP_PASS';
const SAMPLE_ADDRESS = 'test@example.test';

/** Quotes for /bin/sh only when needed, so the common case stays readable. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_/.:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `postern send` and swaks command lines for `address` (a STARTTLS one when there is one). */
export function tryCommands(
  address: ListeningAddress,
  o: { caFile: string | undefined; user: string },
): { postern: string; swaks: string } {
  const host = connectableHost(address.host);
  const starttls = address.tls === 'starttls';
  const url = `${starttls ? 'smtp' : 'smtps'}://${hostPort(host, address.port)}`;
  const postern = [
    'postern send',
    `--server ${shellWord(url)}`,
    ...(o.caFile ? [`--ca ${shellWord(o.caFile)}`] : []),
    `--user ${shellWord(o.user)} --password-env ${PASSWORD_VARIABLE}`,
    `--from ${SAMPLE_ADDRESS} --to ${SAMPLE_ADDRESS} --subject 'Hello from postern' --text 'It works.'`,
  ];
  // swaks reads any option from SWAKS_OPT_<name>: the password stays out of its argv (and of `ps`).
  const server = host.includes(':')
    ? `--server ${host} --port ${address.port}`
    : `--server ${host}:${address.port}`;
  const swaks = [
    `SWAKS_OPT_auth_password="$${PASSWORD_VARIABLE}" swaks`,
    server,
    starttls ? '--tls' : '--tls-on-connect',
    ...(o.caFile ? [`--tls-verify --tls-ca-path ${shellWord(o.caFile)}`] : []),
    `--auth PLAIN --auth-user ${shellWord(o.user)}`,
    `--from ${SAMPLE_ADDRESS} --to ${SAMPLE_ADDRESS}`,
  ];
  return { postern: wrap(postern), swaks: wrap(swaks) };
}

/** The parts on as few lines as fit in about 100 columns, continued with backslashes as a shell takes them. */
function wrap(parts: readonly string[], width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line !== '' && line.length + 1 + part.length > width) {
      lines.push(line);
      line = part;
    } else {
      line = line === '' ? part : `${line} ${part}`;
    }
  }
  lines.push(line);
  return lines.join(' \\\n      ');
}

/** ` --file FILE` for `postern users`, unless FILE is the one it edits anyway. */
function fileFlag(usersFile: string): string {
  return resolve(usersFile) === resolve(defaultUsersFile()) ? '' : ` --file ${shellWord(usersFile)}`;
}

export function printBanner(output: Output, facts: BannerFacts): void {
  const s = output.err;
  const note = (line = '') => output.note(line);
  const row = (label: string, value: string) => note(`  ${s.dim(label.padEnd(14))}${value}`);

  note(`${s.bold('Postern SMTP server ready')} ${s.dim(`(${facts.hostname})`)}`);
  for (const address of facts.addresses) {
    const label = address.tls === 'implicit' ? 'implicit TLS' : 'STARTTLS';
    row(label, hostPort(address.host, address.port));
  }
  row(
    'certificate',
    facts.caFile
      ? `automatic; clients trust its CA: ${facts.caFile}`
      : `${facts.certFile ?? '?'} (clients must trust its issuer)`,
  );
  row(
    'users',
    `${facts.usersFile} (${facts.userNames.length} user${facts.userNames.length === 1 ? '' : 's'})`,
  );
  row('Maildir', facts.maildir);
  row(
    'policy',
    [
      facts.requireTls ? 'TLS required' : 'TLS offered',
      'AUTH only under TLS',
      facts.requireAuth ? 'AUTH required to send' : 'mail accepted without AUTH',
      `messages up to ${formatByteSize(facts.maxSize)}`,
    ].join(', '),
  );

  const user = facts.testUser?.name ?? facts.userNames[0] ?? 'NAME';
  note();
  if (facts.testUser) {
    note(
      `Created the user ${s.bold(facts.testUser.name)} with a random password, shown only this once ` +
        `(\`postern users add ${facts.testUser.name}${fileFlag(facts.usersFile)}\` sets a new one):`,
    );
    row('user', facts.testUser.name);
    row('password', facts.testUser.password.reveal());
    note();
  }
  const address = facts.addresses.find((a) => a.tls === 'starttls') ?? facts.addresses[0];
  if (address) {
    const commands = tryCommands(address, { caFile: facts.caFile, user });
    note('Try it:');
    if (facts.testUser) {
      note(`  export ${PASSWORD_VARIABLE}=${shellWord(facts.testUser.password.reveal())}`);
    } else {
      note(
        `  ${s.dim(`# first set ${PASSWORD_VARIABLE} to the password of ${user} (\`postern users list${fileFlag(facts.usersFile)}\` shows the users)`)}`,
      );
    }
    note(`  ${commands.postern}`);
    note(`  ${commands.swaks}`);
    if (!facts.caFile) {
      note(
        `  ${s.dim('# add --ca FILE (postern) and --tls-verify --tls-ca-path FILE (swaks) if the issuer is not publicly trusted')}`,
      );
    }
    note();
  }
  note(
    s.dim(
      'Ctrl-C or SIGTERM stops (transactions in flight finish first); SIGHUP reloads the certificate and users.',
    ),
  );
}
