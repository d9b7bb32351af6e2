/**
 * Real peers (Postfix, swaks, aiosmtpd, …) are installed by scripts/install-peers.sh, never by tests.
 * A test asks `peerSkip(name)`: undefined when the peer is present, else a reason to skip —
 * except under CI=true, where a missing peer throws so the run fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const cache = new Map<string, string | undefined>();

export const IN_CI = process.env['CI'] === 'true';

function check(name: string, probe: () => boolean, install: string, why?: string): string | undefined {
  if (cache.has(name)) return cache.get(name);
  let ok = false;
  try {
    ok = probe();
  } catch {
    ok = false;
  }
  const reason = ok
    ? undefined
    : (why ?? `${name} is not installed (run scripts/install-peers.sh: ${install})`);
  if (reason && IN_CI) throw new Error(`required peer missing under CI=true: ${reason}`);
  cache.set(name, reason);
  return reason;
}

function hasCommand(cmd: string): boolean {
  execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  return true;
}

/** Debian's python3 with its python3-* packages (the python3 first on PATH may be another build). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function hasPythonModule(mod: string): boolean {
  execFileSync(SYSTEM_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' });
  return true;
}

export type PeerName =
  | 'postfix'
  | 'dovecot'
  | 'swaks'
  | 'msmtp'
  | 'aiosmtpd'
  | 'openssl'
  | 'testssl'
  | 'dkim'
  | 'dnslib'
  | 'python3'
  | 'chromium';

/** Returns undefined if the peer can be used, else the reason to skip (throws under CI=true). */
export function peerSkip(...names: PeerName[]): string | undefined {
  for (const name of names) {
    const reason = (() => {
      switch (name) {
        case 'postfix':
          return (
            check(name, () => existsSync('/usr/sbin/postfix'), 'apt-get install postfix') ??
            // test/helpers/postfix.ts starts a private instance; Postfix's master only runs as root.
            check(
              'postfix-as-root',
              () => process.geteuid?.() === 0,
              '',
              'a private Postfix instance needs root (master(8) runs as root); run the tests as root',
            )
          );
        case 'dovecot':
          return check(name, () => existsSync('/usr/sbin/dovecot'), 'apt-get install dovecot-core');
        case 'swaks':
          return check(name, () => hasCommand('swaks'), 'apt-get install swaks');
        case 'msmtp':
          return check(name, () => hasCommand('msmtp'), 'apt-get install msmtp');
        case 'openssl':
          return check(name, () => hasCommand('openssl'), 'apt-get install openssl');
        case 'testssl':
          return check(name, () => hasCommand('testssl'), 'apt-get install testssl.sh');
        case 'aiosmtpd':
          return check(name, () => hasPythonModule('aiosmtpd'), 'apt-get install python3-aiosmtpd');
        case 'dkim':
          return check(name, () => hasPythonModule('dkim'), 'apt-get install python3-dkim');
        case 'dnslib':
          return check(name, () => hasPythonModule('dnslib'), 'apt-get install python3-dnslib');
        case 'python3':
          return check(name, () => existsSync(SYSTEM_PYTHON), 'apt-get install python3');
        case 'chromium':
          return check(name, () => hasCommand('chromium'), 'apt-get install chromium');
      }
    })();
    if (reason) return reason;
  }
  return undefined;
}
