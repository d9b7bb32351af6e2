/**
 * A private Postfix (+ a private Dovecot for SASL) on loopback, for interop tests.
 *
 * Everything lives in one temp dir; nothing under /etc, /var or the system's own services is touched:
 *
 *   <dir>/etc/         main.cf, master.cf, recipients (regexp), deliver.sh — `postfix -c <dir>/etc`
 *   <dir>/queue/       queue_directory (subdirs created by `postfix start`)
 *   <dir>/data/        data_directory, owned by postfix (master.lock, prng_exch)
 *   <dir>/mail/<domain>/<local>/{tmp,new,cur}   Maildirs, written as nobody:nogroup
 *   <dir>/maillog      maillog_file, written by postlogd (there is no /dev/log)
 *   <dir>/dovecot/     dovecot.conf, users (passwd-file), run/, state/, dovecot.log
 *
 * How the private instance is started (Postfix 3.7, as root), and why:
 * - `postfix -c DIR start` needs no `alternate_config_directories` in /etc/postfix/main.cf when run by
 *   root: Postfix checks that list for a non-default config dir only when the caller is not root
 *   (mail_conf_suck(): `geteuid() != 0`). The `postfix` command exports MAIL_CONFIG=DIR and every daemon
 *   inherits it (MAIL_CONFIG is in the default import_environment), so the whole instance uses DIR.
 *   (There is no /etc/postfix/main.cf on this machine at all; nothing reads it.)
 * - `postfix start` runs post-install create-missing (queue dirs), postsuper, then `master -w`, which
 *   returns once the master has bound its listeners.
 * - Postfix re-reads a main.cf modified within the last second, sleeping 300 ms each time ("cool down"),
 *   which cost ~1.5 s per start: the config files are backdated by a minute.
 * - maillog_file needs the `postlog unix-dgram ... postlogd` service in master.cf (postfix-script refuses
 *   to start without it) and its path must start with one of maillog_file_prefixes.
 * - All services run unchrooted (chroot column `n`), so no copies of /etc files are needed.
 * - Delivery: virtual(8) refuses regexp substitutions in virtual_mailbox_maps ("regular expression
 *   substitution is not allowed"), so it cannot map any-user@example.test to its own Maildir. Instead
 *   every recipient (example.test via virtual_transport, any other domain via default_transport, so
 *   relayed mail never leaves the machine) goes to a pipe(8) transport that runs etc/deliver.sh as
 *   nobody, which writes <dir>/mail/<domain>/<local>/new/<file> the Maildir way (tmp/ then rename).
 *   With the `relay` option one domain instead goes out by smtp(8) with STARTTLS to a given host:port.
 *   pipe(8) flags: D and R prepend Delivered-To and Return-Path (like virtual(8)); h and u lower-case
 *   domain and local part. Postfix stores messages with LF line endings and prepends Received.
 * - `local_header_rewrite_clients =` (empty): Postfix otherwise adds Date:, Message-ID: and From: to
 *   messages lacking them and rewrites header addresses for clients on inet_interfaces (every test
 *   client); now the stored message is the sent one with LF line endings and three trace headers on top.
 * - SASL: Postfix `smtpd_sasl_type = dovecot` talks to a private `dovecot -F -c CONF` (foreground, our
 *   child, own process group) whose only service is auth, on an inet_listener on a free loopback port.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testPki } from './certs.js';
import {
  groupAlive,
  isAlive,
  onExit,
  pidsWithEnv,
  shellQuote,
  signalPid,
  sleepSync,
  unrefChild,
} from './cleanup.js';
import { freePort, waitForListening } from './ports.js';
import { KEEP_PEERS, removeTempDir, tempDir } from './tmp.js';

const run = promisify(execFile);

export const POSTFIX_BIN = '/usr/sbin/postfix';
export const DOVECOT_BIN = '/usr/sbin/dovecot';
const POSTQUEUE_BIN = '/usr/sbin/postqueue';
const DOMAIN = 'example.test';
/** Maildirs are written by pipe(8) as nobody:nogroup. */
const MAIL_USER = 'nobody';

export interface SaslUser {
  name: string;
  password: string;
}

export interface PostfixOptions {
  /** Dovecot SASL users; default one user `alice` with a random password (see `instance.users`). */
  users?: SaslUser[];
  /** SASL mechanisms Dovecot offers; default PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256. */
  mechanisms?: string[];
  /**
   * Default true: submission requires STARTTLS before MAIL (smtpd_tls_security_level=encrypt) and AUTH
   * is offered only under TLS (smtpd_tls_auth_only=yes). false: submission offers STARTTLS without
   * requiring it and offers AUTH (every mechanism, PLAIN included) in plaintext — for tests that a
   * client refuses to authenticate in clear.
   */
  tlsAuthOnly?: boolean;
  /**
   * smtpd_tls_security_level of the submission port; default 'encrypt' ('may' when tlsAuthOnly is false).
   * 'none' makes a submission port that offers no STARTTLS at all.
   */
  submissionTlsLevel?: 'encrypt' | 'may' | 'none';
  /** Extra main.cf settings, applied last (they override the defaults), e.g. smtpd_tls_protocols. */
  extraMain?: Record<string, string>;
  /** Server certificate and key files; default the test PKI's localhost leaf. */
  cert?: { certFile: string; keyFile: string };
  /** message_size_limit in bytes (advertised as SIZE); default Postfix's 10240000. */
  messageSizeLimit?: number;
  /**
   * Relays mail for one domain to another SMTP server (e.g. one under test) with Postfix's smtp(8) client:
   * the domain is accepted on the smtp port from any client (relay_domains) and sent to host:port
   * (transport_maps, no MX lookup) with STARTTLS at `tlsLevel` (default 'encrypt'), trusting `caFile`.
   * For 'verify', `host` must be a name in the server's certificate (e.g. localhost).
   */
  relay?: PostfixRelay;
  /** Startup timeout (ms), default 15000. */
  timeoutMs?: number;
}

export interface PostfixRelay {
  /** Recipient domain whose mail is relayed, e.g. relay.test. */
  domain: string;
  /** Host name or IPv4 address to connect to (resolved from /etc/hosts, never DNS). */
  host: string;
  port: number;
  /** CA certificate file the smtp(8) client trusts (smtp_tls_CAfile). */
  caFile: string;
  /** smtp_tls_security_level; default 'encrypt'. */
  tlsLevel?: 'encrypt' | 'verify' | 'may';
}

export interface PostfixInstance {
  host: '127.0.0.1';
  ports: {
    /** Port-25 style MX: STARTTLS offered (not required), no AUTH; accepts mail for @example.test only. */
    smtp: number;
    /** Submission: STARTTLS required, then AUTH required for every transaction (any recipient). */
    submission: number;
    /** Implicit TLS (wrappermode): AUTH required for every transaction (any recipient). */
    smtps: number;
  };
  domain: 'example.test';
  /** CA file that signed the default server certificate (the test PKI's). */
  caFile: string;
  /** The SASL users Dovecot knows. */
  users: SaslUser[];
  /** SASL mechanisms configured in Dovecot (upper case), as Postfix advertises them after EHLO. */
  mechanisms: string[];
  /** The temp dir holding the whole instance (configs, queue, Maildirs, logs). */
  dir: string;
  /**
   * Maildir of a recipient: "bob" means bob@example.test; a full address (also of another domain, for
   * relayed mail) is used as is. Lower-cased, as the delivery agent does.
   */
  maildir(user: string): string;
  /**
   * Waits until the recipient's Maildir new/ holds at least `count` messages (default timeout 10 s);
   * returns their paths, oldest first. Fails with the queue listing and the maillog tail.
   */
  waitForMessages(user: string, count: number, timeoutMs?: number): Promise<string[]>;
  /**
   * All messages in the recipient's Maildir new/, oldest first ([] when none). Each is the message as
   * the client sent it (no header added or rewritten), with LF line endings and Return-Path (MAIL FROM),
   * Delivered-To (RCPT TO) and Received (TLS details, "with ESMTPSA" when authenticated) prepended.
   */
  readMessages(user: string): Promise<Buffer[]>;
  /** The Postfix maillog so far. */
  log(): Promise<string>;
  /** The Dovecot log so far. */
  dovecotLog(): Promise<string>;
  /** Stops Postfix and Dovecot, waits until every process is gone, removes the dir (unless KEEP_PEERS=1). */
  stop(): Promise<void>;
}

const DEFAULT_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256'];

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url');
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function readOr(file: string, fallback = '(missing)'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

async function idOf(flag: '-u' | '-g', name: string): Promise<number> {
  return Number((await run('id', [flag, name])).stdout.trim());
}

function checkUser(u: SaslUser): void {
  for (const [what, value] of [
    ['name', u.name],
    ['password', u.password],
  ] as const) {
    if (value === '' || /[:\r\n\0]/.test(value)) {
      throw new Error(
        `startPostfix: SASL user ${what} ${JSON.stringify(value)} cannot go into a passwd-file`,
      );
    }
  }
}

/** The relay option goes into main.cf as is: only plain names, a port and a path without separators. */
function checkRelay(relay: PostfixRelay): void {
  for (const [what, value] of [
    ['domain', relay.domain],
    ['host', relay.host],
  ] as const) {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(value)) {
      throw new Error(`startPostfix: relay ${what} ${JSON.stringify(value)} is not a plain host name`);
    }
  }
  if (!Number.isInteger(relay.port) || relay.port <= 0 || relay.port > 65535) {
    throw new Error(`startPostfix: relay port ${relay.port} is not a port`);
  }
  if (/[\s,{}]/.test(relay.caFile)) {
    throw new Error(`startPostfix: relay caFile ${JSON.stringify(relay.caFile)} cannot go into main.cf`);
  }
}

class StartupError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'PostfixStartupError';
  }
}

interface Layout {
  dir: string;
  etc: string;
  queue: string;
  data: string;
  mail: string;
  maillog: string;
  dove: string;
  doveLog: string;
}

function layoutOf(dir: string): Layout {
  const dove = join(dir, 'dovecot');
  return {
    dir,
    etc: join(dir, 'etc'),
    queue: join(dir, 'queue'),
    data: join(dir, 'data'),
    mail: join(dir, 'mail'),
    maillog: join(dir, 'maillog'),
    dove,
    doveLog: join(dove, 'dovecot.log'),
  };
}

function dovecotConf(l: Layout, authPort: number, mechanisms: string[], instance: string): string {
  return `# Private Dovecot: only the auth service, for Postfix SASL (written by test/helpers/postfix.ts)
base_dir = ${l.dove}/run
state_dir = ${l.dove}/state
instance_name = ${instance}
log_path = ${l.doveLog}
protocols =
ssl = no
# No stats connections: an auth process killed while starting up otherwise waits 5 s for the (also
# dying) stats-writer handshake, and stopping Dovecot took seconds.
stats_writer_socket_path =
# Postfix enforces "AUTH only under TLS" (smtpd_tls_auth_only); Dovecot must not second-guess it.
disable_plaintext_auth = no
auth_mechanisms = ${mechanisms.map((m) => m.toLowerCase()).join(' ')}
auth_failure_delay = 0
auth_verbose = yes
auth_cache_size = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${l.dove}/users
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
# No authentication penalty: after a failed AUTH, Dovecot would delay the next attempts from 127.0.0.1
# (2, 4, 8 ... 15 s), which slows down every test that follows a wrong-password test.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = ${authPort}
  }
}
`;
}

function mainCf(
  l: Layout,
  authPort: number,
  cert: { certFile: string; keyFile: string },
  opts: PostfixOptions,
): string {
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: l.queue,
    data_directory: l.data,
    maillog_file: l.maillog,
    maillog_file_prefixes: l.dir,
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    myhostname: 'mail.example.test',
    mydomain: DOMAIN,
    myorigin: '$mydomain',
    mydestination: '',
    mynetworks: '',
    relayhost: '',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    biff: 'no',
    append_dot_mydomain: 'no',
    smtpd_banner: '$myhostname ESMTP Postfix (Postern test instance)',
    smtpd_peername_lookup: 'no',
    smtpd_error_sleep_time: '0',
    smtpd_soft_error_limit: '100',
    smtpd_hard_error_limit: '200',
    smtputf8_enable: 'yes',
    // Keep messages as the client sent them: no Date/Message-ID/From added, no header address rewriting
    // (by default Postfix does both for clients on inet_interfaces, i.e. for every test client).
    local_header_rewrite_clients: '',
    always_add_missing_headers: 'no',
    // Every recipient ends up in a Maildir under <dir>/mail (see deliver.sh); nothing leaves the host.
    virtual_mailbox_domains: DOMAIN,
    virtual_mailbox_maps: `regexp:${l.etc}/recipients`,
    virtual_transport: 'maildir',
    default_transport: 'maildir',
    relay_transport: 'maildir',
    maildir_destination_recipient_limit: '1',
    // TLS (server side only)
    smtpd_tls_chain_files: `${cert.keyFile}, ${cert.certFile}`,
    smtpd_tls_security_level: 'may',
    smtpd_tls_auth_only: opts.tlsAuthOnly === false ? 'no' : 'yes',
    smtpd_tls_received_header: 'yes',
    smtpd_tls_loglevel: '1',
    smtp_tls_security_level: 'none',
    // SASL via the private Dovecot; enabled per service in master.cf
    smtpd_sasl_type: 'dovecot',
    smtpd_sasl_path: `inet:127.0.0.1:${authPort}`,
    smtpd_sasl_auth_enable: 'no',
    smtpd_sasl_security_options: 'noanonymous',
    smtpd_sasl_tls_security_options: 'noanonymous',
    broken_sasl_auth_clients: 'no',
    smtpd_relay_restrictions: 'permit_sasl_authenticated, reject_unauth_destination',
    smtpd_recipient_restrictions: 'permit_sasl_authenticated, reject_unauth_destination',
  };
  if (opts.messageSizeLimit !== undefined) settings['message_size_limit'] = String(opts.messageSizeLimit);
  if (opts.relay) Object.assign(settings, relaySettings(opts.relay));
  Object.assign(settings, opts.extraMain ?? {});
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `# Private Postfix instance (written by test/helpers/postfix.ts)\n${lines.join('\n')}\n`;
}

/**
 * main.cf for relaying one domain: reject_unauth_destination lets it through because it is in
 * relay_domains (no relay_recipient_maps: any local part); transport_maps sends it by the smtp service to
 * [host]:port — the brackets skip the MX lookup, and smtp_host_lookup=native resolves a name from
 * /etc/hosts, so no DNS is involved. Mail for other domains still goes to the Maildirs.
 */
function relaySettings(relay: PostfixRelay): Record<string, string> {
  return {
    relay_domains: relay.domain,
    transport_maps: `inline:{ ${relay.domain}=smtp:[${relay.host}]:${relay.port} }`,
    smtp_host_lookup: 'native',
    smtp_tls_security_level: relay.tlsLevel ?? 'encrypt',
    smtp_tls_CAfile: relay.caFile,
    smtp_tls_loglevel: '1',
  };
}

function masterCf(l: Layout, ports: PostfixInstance['ports'], opts: PostfixOptions): string {
  const authRequired = [
    '  -o smtpd_sasl_auth_enable=yes',
    '  -o smtpd_client_restrictions=',
    '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject',
    '  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject',
  ];
  return [
    '# service type  private unpriv  chroot  wakeup  maxproc command (written by test/helpers/postfix.ts)',
    `127.0.0.1:${ports.smtp} inet n - n - - smtpd`,
    `127.0.0.1:${ports.submission} inet n - n - - smtpd`,
    '  -o syslog_name=postfix/submission',
    `  -o smtpd_tls_security_level=${opts.submissionTlsLevel ?? (opts.tlsAuthOnly === false ? 'may' : 'encrypt')}`,
    ...authRequired,
    `127.0.0.1:${ports.smtps} inet n - n - - smtpd`,
    '  -o syslog_name=postfix/smtps',
    '  -o smtpd_tls_wrappermode=yes',
    ...authRequired,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    // The SMTP client, for the relay option (nothing else routes mail to it).
    ...(opts.relay ? ['smtp unix - - n - - smtp'] : []),
    'maildir unix - n n - - pipe',
    `  flags=DRhu user=${MAIL_USER} argv=/bin/sh ${l.etc}/deliver.sh ${l.mail} \${domain} \${mailbox}`,
    '',
  ].join('\n');
}

// Which @example.test recipients smtpd accepts: a sane local part, except unknown* (550 5.1.1 User
// unknown, for tests of rejected recipients). "%" delimits the patterns because "/" occurs in them.
const RECIPIENTS = `if !%^unknown%
%^[^@/.][^@/]*@[a-z0-9][-a-z0-9.]*$% OK
endif
`;

// The delivery agent: pipe(8) runs it as nobody with the message on stdin. Exit 67 (EX_NOUSER)
// bounces, 75 (EX_TEMPFAIL) defers.
const DELIVER_SH = `#!/bin/sh
# Maildir delivery for the private Postfix test instance: deliver.sh BASE DOMAIN LOCALPART
base=$1 domain=$2 local=$3
case "$domain" in ''|.*|*/*) echo "bad domain: $domain"; exit 67;; esac
case "$local" in ''|.*|*/*) echo "bad mailbox: $local"; exit 67;; esac
dir="$base/$domain/$local"
mkdir -p "$dir/tmp" "$dir/new" "$dir/cur" || exit 75
name="$(date +%s.%N).P$$.mail.example.test"
cat > "$dir/tmp/$name" || { rm -f "$dir/tmp/$name"; exit 75; }
mv "$dir/tmp/$name" "$dir/new/$name" || exit 75
`;

function readMasterPid(l: Layout): number | undefined {
  const pid = Number.parseInt(readOr(join(l.queue, 'pid', 'master.pid'), '').trim(), 10);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/** Kills whatever is left of an instance: the master, every daemon with its MAIL_CONFIG, Dovecot's group. */
function killInstanceSync(l: Layout, dovecot: ChildProcess | undefined): void {
  const masterPid = readMasterPid(l);
  if (masterPid) signalPid(masterPid, 'SIGTERM');
  const dovecotPgid = dovecot?.pid;
  if (dovecotPgid) signalPid(-dovecotPgid, 'SIGTERM');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const postfixLeft = (masterPid && isAlive(masterPid)) || pidsWithEnv(`MAIL_CONFIG=${l.etc}`).length > 0;
    if (!postfixLeft && !(dovecotPgid && isAlive(dovecotPgid))) break;
    sleepSync(20);
  }
  for (const pid of pidsWithEnv(`MAIL_CONFIG=${l.etc}`)) signalPid(pid, 'SIGKILL');
  if (dovecotPgid && groupAlive(dovecotPgid)) signalPid(-dovecotPgid, 'SIGKILL');
}

/**
 * What the reaper runs if the test process is killed (SIGKILL) before it could stop the instance. A pid
 * from a pid file is only signalled while it still belongs to this instance (the Postfix master has
 * MAIL_CONFIG=<etc> in its environment, Dovecot has its config path on its command line), so a recycled
 * pid is never hit.
 */
function reaperScript(l: Layout): string {
  const q = shellQuote;
  const masterPidFile = join(l.queue, 'pid', 'master.pid');
  const dovecotPidFile = join(l.dove, 'run', 'master.pid');
  return `owns() { tr '\\0' '\\n' < "/proc/$1/$2" 2>/dev/null | grep -qxF -- "$3"; }
pid=$(head -n 1 ${q(masterPidFile)} 2>/dev/null | tr -d ' ')
dpid=$(head -n 1 ${q(dovecotPidFile)} 2>/dev/null | tr -d ' ')
[ -n "$pid" ] && owns "$pid" environ ${q(`MAIL_CONFIG=${l.etc}`)} || pid=
[ -n "$dpid" ] && owns "$dpid" cmdline ${q(join(l.dove, 'dovecot.conf'))} || dpid=
[ -n "$pid" ] && kill -TERM "$pid"
[ -n "$dpid" ] && kill -TERM -"$dpid"
sleep 1
[ -n "$pid" ] && kill -KILL "$pid"
[ -n "$dpid" ] && kill -KILL -"$dpid"
${KEEP_PEERS ? '' : `rm -rf ${q(l.dir)}`}
`;
}

/**
 * `postfix check` output, for startup failures. postfix(1) writes errors to stderr only when it is a
 * terminal (and to the maillog only once it got that far), so a config error such as
 * "fatal: parameter inet_interfaces: no local interface found" is otherwise invisible; `script` gives
 * it a pseudo-terminal.
 */
async function postfixCheck(l: Layout): Promise<string> {
  const command = `${POSTFIX_BIN} -c ${shellQuote(l.etc)} check`;
  try {
    const { stdout } = await run('script', ['-qec', command, '/dev/null'], { timeout: 10000 });
    return stdout.replace(/\r/g, '').trim() || '(no output)';
  } catch (err) {
    const e = err as Error & { stdout?: string };
    return (e.stdout ?? '').replace(/\r/g, '').trim() || e.message;
  }
}

async function startDovecot(
  l: Layout,
  authPort: number,
  mechanisms: string[],
  users: SaslUser[],
  timeoutMs: number,
  onSpawn: (child: ChildProcess) => void,
): Promise<void> {
  await mkdir(l.dove, { recursive: true });
  const usersFile = join(l.dove, 'users');
  await writeFile(usersFile, users.map((u) => `${u.name}:{PLAIN}${u.password}\n`).join(''), { mode: 0o640 });
  // The auth process runs as the dovecot user and reads the passwd-file itself.
  chownSync(usersFile, 0, await idOf('-g', 'dovecot'));
  const conf = join(l.dove, 'dovecot.conf');
  await writeFile(conf, dovecotConf(l, authPort, mechanisms, `postern-${l.dir.slice(-6)}`));
  // -F: stays in the foreground as our child. detached: its own process group, which is signalled as a
  // whole (SIGTERM to the Dovecot master alone waits for its children to wind down).
  const child = spawn(DOVECOT_BIN, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  onSpawn(child);
  unrefChild(child); // a forgotten stop() must not keep the test process alive; exit handlers clean up
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', (err) => {
    output += String(err);
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (exited) {
      const log = readOr(l.doveLog);
      throw new StartupError(
        `dovecot exited during startup (code ${child.exitCode})\n--- dovecot output ---\n${output}`,
        /in use/i.test(output + log),
      );
    }
    try {
      await waitForListening(authPort, '127.0.0.1', 100);
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new StartupError(
          `dovecot auth did not listen on 127.0.0.1:${authPort} within ${timeoutMs} ms\n--- dovecot output ---\n${output}`,
          false,
        );
      }
    }
  }
}

async function attempt(
  opts: PostfixOptions,
  users: SaslUser[],
  mechanisms: string[],
): Promise<PostfixInstance> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const pki = await testPki();
  const cert = opts.cert ?? { certFile: pki.certFile, keyFile: pki.keyFile };
  const dir = await tempDir('postfix');
  const l = layoutOf(dir);
  const ports = { smtp: await freePort(), submission: await freePort(), smtps: await freePort() };
  const authPort = await freePort();
  let dovecot: ChildProcess | undefined;
  const unregister = onExit(() => killInstanceSync(l, dovecot), reaperScript(l));

  const fail = async (what: string, detail: string, retryable: boolean): Promise<never> => {
    const message =
      `startPostfix: ${what} (instance dir ${dir}${KEEP_PEERS ? ', kept' : ''})\n${detail}\n` +
      `--- maillog (tail) ---\n${tail(readOr(l.maillog))}\n--- dovecot log (tail) ---\n${tail(readOr(l.doveLog))}`;
    killInstanceSync(l, dovecot);
    unregister();
    await removeTempDir(dir);
    throw new StartupError(message, retryable);
  };

  try {
    await Promise.all([
      mkdir(l.etc),
      mkdir(l.queue),
      mkdir(l.data, { mode: 0o700 }),
      mkdir(l.mail, { mode: 0o700 }),
    ]);
    chownSync(l.data, await idOf('-u', 'postfix'), 0);
    chownSync(l.mail, await idOf('-u', MAIL_USER), await idOf('-g', MAIL_USER));
    const files: [string, string][] = [
      ['main.cf', mainCf(l, authPort, cert, opts)],
      ['master.cf', masterCf(l, ports, opts)],
      ['recipients', RECIPIENTS],
      ['deliver.sh', DELIVER_SH],
    ];
    await Promise.all(files.map(([name, text]) => writeFile(join(l.etc, name), text)));
    // Postfix re-reads a main.cf modified within the last second, sleeping 300 ms each time ("let it
    // cool down"): backdating the files saves ~1.5 s per start.
    const past = new Date(Date.now() - 60_000);
    await Promise.all(files.map(([name]) => utimes(join(l.etc, name), past, past)));
    await startDovecot(l, authPort, mechanisms, users, timeoutMs, (child) => {
      dovecot = child;
    });
  } catch (err) {
    const retryable = err instanceof StartupError && err.retryable;
    return fail('Dovecot (SASL) failed to start', (err as Error).message, retryable);
  }

  try {
    await run(POSTFIX_BIN, ['-c', l.etc, 'start'], { timeout: timeoutMs });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
    const detail = `${out}\n--- postfix check ---\n${await postfixCheck(l)}`;
    return fail(
      '`postfix start` failed',
      detail,
      /address already in use/i.test(out + readOr(l.maillog, '')),
    );
  }
  try {
    await Promise.all(Object.values(ports).map((p) => waitForListening(p, '127.0.0.1', timeoutMs)));
  } catch (err) {
    return fail('Postfix ports did not open', (err as Error).message, false);
  }

  const maildir = (user: string): string => {
    const at = user.lastIndexOf('@');
    const [local, domain] = at < 0 ? [user, DOMAIN] : [user.slice(0, at), user.slice(at + 1)];
    return join(l.mail, domain.toLowerCase(), local.toLowerCase());
  };
  const listNew = async (user: string): Promise<string[]> => {
    const newDir = join(maildir(user), 'new');
    let names: string[];
    try {
      names = await readdir(newDir);
    } catch {
      return [];
    }
    const entries = await Promise.all(
      names.map(async (name) => ({
        name,
        path: join(newDir, name),
        t: (await stat(join(newDir, name))).mtimeMs,
      })),
    );
    // Names start with "seconds.nanoseconds", so the name order is the delivery order.
    entries.sort((a, b) => a.t - b.t || a.name.localeCompare(b.name, 'en', { numeric: true }));
    return entries.map((e) => e.path);
  };

  let stopped = false;
  return {
    host: '127.0.0.1',
    ports,
    domain: DOMAIN,
    caFile: pki.caFile,
    users,
    mechanisms,
    dir,
    maildir,
    async waitForMessages(user, count, waitMs = 10000) {
      const deadline = Date.now() + waitMs;
      while (true) {
        const paths = await listNew(user);
        if (paths.length >= count) return paths;
        if (Date.now() > deadline) {
          let queue: string;
          try {
            queue = (await run(POSTQUEUE_BIN, ['-c', l.etc, '-p'])).stdout;
          } catch (err) {
            queue = String(err);
          }
          throw new Error(
            `waitForMessages: ${paths.length}/${count} message(s) in ${join(maildir(user), 'new')} after ${waitMs} ms\n` +
              `--- queue ---\n${queue}\n--- maillog (tail) ---\n${tail(readOr(l.maillog))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async readMessages(user) {
      return Promise.all((await listNew(user)).map((p) => readFile(p)));
    },
    async log() {
      return readOr(l.maillog, '');
    },
    async dovecotLog() {
      return readOr(l.doveLog, '');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const masterPid = readMasterPid(l);
      try {
        await run(POSTFIX_BIN, ['-c', l.etc, 'stop'], { timeout: 10000 });
      } catch {
        // not running, or it did not stop in time: the kill below makes sure
      }
      if (dovecot?.pid && dovecot.exitCode === null && dovecot.signalCode === null) {
        const exited = new Promise((r) => dovecot!.once('exit', r));
        signalPid(-dovecot.pid, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      const deadline = Date.now() + 5000;
      while (
        Date.now() < deadline &&
        ((masterPid && isAlive(masterPid)) || pidsWithEnv(`MAIL_CONFIG=${l.etc}`).length > 0)
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      killInstanceSync(l, dovecot); // SIGKILLs whatever ignored the polite requests; instant otherwise
      unregister();
      await removeTempDir(dir);
    },
  };
}

/**
 * Starts a private Postfix with a private Dovecot for SASL (typically 0.3 s). Call `stop()` when done;
 * if a test forgets or the process dies, the instance is still torn down at process exit. Retries with
 * new ports when a port was taken between choosing and binding it.
 */
export async function startPostfix(opts: PostfixOptions = {}): Promise<PostfixInstance> {
  if (process.geteuid?.() !== 0) throw new Error('startPostfix: a private Postfix instance needs root');
  const users = opts.users ?? [{ name: 'alice', password: `alice-${randomSecret()}` }];
  users.forEach(checkUser);
  if (opts.relay) checkRelay(opts.relay);
  const mechanisms = (opts.mechanisms ?? DEFAULT_MECHANISMS).map((m) => m.toUpperCase());
  for (let i = 1; ; i++) {
    try {
      return await attempt(opts, users, mechanisms);
    } catch (err) {
      if (!(err instanceof StartupError && err.retryable && i < 3)) throw err;
    }
  }
}
