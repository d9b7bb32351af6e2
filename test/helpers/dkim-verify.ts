/**
 * python3-dkim (Debian) as an independent DKIM verifier: the message goes to its stdin, the public keys are
 * served by a dnsfunc from `records` (name → TXT), and one verdict per DKIM-Signature comes back, top first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SYSTEM_PYTHON } from './peers.js';

const VERIFY_PY = `
import sys, json, logging, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    return records.get(name.decode('ascii'), '').encode()
message = sys.stdin.buffer.read()
d = dkim.DKIM(message, logger=logging.getLogger('quiet'))
count = sum(1 for name, _ in d.headers if name.lower() == b'dkim-signature')
results = []
for i in range(count):
    try:
        results.append({'ok': bool(d.verify(idx=i, dnsfunc=dnsfunc)), 'error': None})
    except Exception as e:
        results.append({'ok': False, 'error': type(e).__name__ + ': ' + str(e)})
print(json.dumps(results))
`;

export interface DkimVerdict {
  readonly ok: boolean;
  readonly error: string | null;
}

/** The DNS TXT record of a DKIM key: p= is SPKI DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
export function dkimRecord(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return publicKey.asymmetricKeyType === 'ed25519'
    ? `v=DKIM1; k=ed25519; p=${spki.subarray(-32).toString('base64')}`
    : `v=DKIM1; k=rsa; p=${spki.toString('base64')}`;
}

export async function pythonDkimVerify(
  message: Buffer | Readable,
  records: Readonly<Record<string, string>>,
): Promise<DkimVerdict[]> {
  const child = spawn(SYSTEM_PYTHON, ['-c', VERIFY_PY, JSON.stringify(records)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(Buffer.isBuffer(message) ? Readable.from([message]) : message, child.stdin);
  const code = await exited;
  assert.equal(code, 0, Buffer.concat(err).toString());
  return JSON.parse(Buffer.concat(out).toString()) as DkimVerdict[];
}
