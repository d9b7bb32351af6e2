// DANE matching (RFC 6698, 7671, 7672) against real certificates made by openssl, with the association data
// computed by openssl too (`openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst …`), so the
// reference does not share code with what it checks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  daneMatches,
  findDaneMatch,
  type TlsaRecord,
  tlsaText,
  tlsaUnusable,
} from '../../../src/audit/dns/index.js';
import { peerSkip } from '../../helpers/peers.js';
import { removeTempDir, tempDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const skip = peerSkip('openssl');

/** Runs a shell pipeline in `dir` and returns stdout as a Buffer. */
async function sh(dir: string, script: string): Promise<Buffer> {
  const { stdout } = await run('sh', ['-c', script], { cwd: dir, encoding: 'buffer', maxBuffer: 1 << 20 });
  return stdout;
}

/** The hex digest `openssl dgst` prints ("SHA2-256(stdin)= ab12…"). */
async function dgst(dir: string, input: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const out = (await sh(dir, `${input} | openssl dgst -${algorithm} -r`)).toString();
  return out.split(' ')[0]?.trim() ?? '';
}

interface Pki {
  dir: string;
  /** DER chain: leaf (EC, mx1.example.test), intermediate (RSA), root (EC). */
  chain: Buffer[];
  /** A leaf with the same name from an unrelated CA, with that CA. */
  strangerChain: Buffer[];
  /** Reference association data from openssl, per file and selector/matching type. */
  ref: Record<
    string,
    { spki256: string; spki512: string; cert256: string; cert512: string; spkiHex: string; certHex: string }
  >;
}

async function makePki(): Promise<Pki> {
  const dir = await tempDir('dane');
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  const caExt = '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign';
  await writeFile(
    join(dir, 'ca.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
  );
  await writeFile(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:mx1.example.test\n');
  await sh(
    dir,
    [
      `openssl req -x509 ${ec} -keyout root.key -out root.pem -days 30 -subj /CN=DANE-Root ${caExt}`,
      'openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj /CN=DANE-Intermediate',
      'openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days 30 -extfile ca.ext -out int.pem',
      `openssl req ${ec} -keyout leaf.key -out leaf.csr -subj /CN=mx1.example.test`,
      'openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 3 -days 30 -extfile leaf.ext -out leaf.pem',
      `openssl req -x509 ${ec} -keyout other.key -out other.pem -days 30 -subj /CN=Other-CA ${caExt}`,
      `openssl req ${ec} -keyout sleaf.key -out sleaf.csr -subj /CN=mx1.example.test`,
      'openssl x509 -req -in sleaf.csr -CA other.pem -CAkey other.key -set_serial 4 -days 30 -extfile leaf.ext -out sleaf.pem',
    ].join(' && '),
  );
  const der = async (file: string) => new X509Certificate(await readFile(join(dir, file))).raw;
  const ref: Pki['ref'] = {};
  for (const file of ['leaf.pem', 'int.pem', 'root.pem', 'other.pem']) {
    const spki = `openssl x509 -in ${file} -pubkey -noout | openssl pkey -pubin -outform DER`;
    const cert = `openssl x509 -in ${file} -outform DER`;
    ref[file] = {
      spki256: await dgst(dir, spki, 'sha256'),
      spki512: await dgst(dir, spki, 'sha512'),
      cert256: await dgst(dir, cert, 'sha256'),
      cert512: await dgst(dir, cert, 'sha512'),
      spkiHex: (await sh(dir, spki)).toString('hex'),
      certHex: (await sh(dir, cert)).toString('hex'),
    };
  }
  return {
    dir,
    chain: [await der('leaf.pem'), await der('int.pem'), await der('root.pem')],
    strangerChain: [await der('sleaf.pem'), await der('other.pem')],
    ref,
  };
}

describe('daneMatches with openssl-made certificates', { skip }, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(async () => {
    if (pki) await removeTempDir(pki.dir);
  });
  const tlsa = (usage: number, selector: number, matchingType: number, data: string): TlsaRecord => ({
    usage,
    selector,
    matchingType,
    data,
  });

  test('DANE-EE (3) matches the leaf with every selector and matching type', () => {
    const r = pki.ref['leaf.pem']!;
    for (const record of [
      tlsa(3, 1, 1, r.spki256),
      tlsa(3, 1, 2, r.spki512),
      tlsa(3, 0, 1, r.cert256),
      tlsa(3, 0, 2, r.cert512),
      tlsa(3, 1, 0, r.spkiHex),
      tlsa(3, 0, 0, r.certHex),
    ]) {
      assert.equal(daneMatches([record], pki.chain), true, tlsaText(record).slice(0, 20));
      assert.deepEqual(findDaneMatch([record], pki.chain)?.depth, 0);
    }
    // Hex case and Buffer data do not matter.
    assert.equal(daneMatches([tlsa(3, 1, 1, r.spki256.toUpperCase())], pki.chain), true);
    assert.equal(
      daneMatches([{ ...tlsa(3, 1, 1, ''), data: Buffer.from(r.spki256, 'hex') }], pki.chain),
      true,
    );
  });

  test('DANE-EE does not match a certificate above the leaf, nor another key', () => {
    const int = pki.ref['int.pem']!;
    assert.equal(daneMatches([tlsa(3, 1, 1, int.spki256)], pki.chain), false);
    assert.equal(daneMatches([tlsa(3, 1, 1, pki.ref['leaf.pem']!.spki256)], pki.strangerChain), false);
    // The right digest under the wrong selector or matching type does not match either.
    assert.equal(daneMatches([tlsa(3, 0, 1, pki.ref['leaf.pem']!.spki256)], pki.chain), false);
    assert.equal(daneMatches([tlsa(3, 1, 2, pki.ref['leaf.pem']!.cert512)], pki.chain), false);
  });

  test('DANE-TA (2) matches the intermediate or the root when the leaf chains to it', () => {
    const int = pki.ref['int.pem']!;
    const root = pki.ref['root.pem']!;
    assert.deepEqual(findDaneMatch([tlsa(2, 1, 1, int.spki256)], pki.chain)?.depth, 1);
    assert.deepEqual(findDaneMatch([tlsa(2, 0, 1, root.cert256)], pki.chain)?.depth, 2);
    assert.equal(daneMatches([tlsa(2, 0, 2, int.cert512)], pki.chain, { host: 'mx1.example.test' }), true);
  });

  test('DANE-TA: not the leaf itself, not a CA the leaf does not chain to, and the leaf must name the MX', () => {
    assert.equal(daneMatches([tlsa(2, 1, 1, pki.ref['leaf.pem']!.spki256)], pki.chain), false);
    // The stranger leaf presented with our intermediate appended: the intermediate did not sign it.
    const forged = [pki.strangerChain[0]!, pki.chain[1]!, pki.chain[2]!];
    assert.equal(daneMatches([tlsa(2, 1, 1, pki.ref['int.pem']!.spki256)], forged), false);
    // A TA that is not in the chain the server sent.
    assert.equal(daneMatches([tlsa(2, 1, 1, pki.ref['other.pem']!.spki256)], pki.chain), false);
    assert.equal(
      daneMatches([tlsa(2, 1, 1, pki.ref['int.pem']!.spki256)], pki.chain, { host: 'mx2.example.test' }),
      false,
    );
    // DANE-EE ignores names.
    assert.equal(
      daneMatches([tlsa(3, 1, 1, pki.ref['leaf.pem']!.spki256)], pki.chain, { host: 'mx2.example.test' }),
      true,
    );
  });

  test('any one matching record among several is enough; unusable ones are skipped', () => {
    const leaf = pki.ref['leaf.pem']!;
    const records = [
      tlsa(1, 1, 1, leaf.spki256), // PKIX-EE: unusable for SMTP even though the digest is right
      tlsa(3, 1, 1, '00'.repeat(32)),
      tlsa(3, 1, 9, leaf.spki256),
      tlsa(3, 1, 1, leaf.spki256),
    ];
    assert.equal(findDaneMatch(records, pki.chain)?.record, records[3]);
    assert.equal(daneMatches(records.slice(0, 3), pki.chain), false);
  });

  test('an empty chain or undecodable certificates match nothing, without throwing', () => {
    const leaf = pki.ref['leaf.pem']!;
    assert.equal(daneMatches([tlsa(3, 1, 1, leaf.spki256)], []), false);
    assert.equal(daneMatches([tlsa(3, 1, 1, leaf.spki256)], [Buffer.from('not a certificate')]), false);
    assert.equal(
      daneMatches([tlsa(2, 1, 1, leaf.spki256)], [pki.chain[0]!, Buffer.from([0x30, 0x03, 1, 2, 3])]),
      false,
    );
  });
});

describe('tlsaUnusable', () => {
  test('explains why a record cannot be used, or says nothing', () => {
    const hash = 'ab'.repeat(32);
    assert.equal(tlsaUnusable({ usage: 3, selector: 1, matchingType: 1, data: hash }), undefined);
    assert.equal(tlsaUnusable({ usage: 2, selector: 0, matchingType: 2, data: 'cd'.repeat(64) }), undefined);
    assert.equal(tlsaUnusable({ usage: 3, selector: 0, matchingType: 0, data: '3082' }), undefined);
    assert.match(
      tlsaUnusable({ usage: 4, selector: 1, matchingType: 1, data: hash }) ?? '',
      /usage 4 is not defined/,
    );
    assert.match(tlsaUnusable({ usage: 3, selector: 2, matchingType: 1, data: hash }) ?? '', /selector 2/);
    assert.match(
      tlsaUnusable({ usage: 3, selector: 1, matchingType: 3, data: hash }) ?? '',
      /matching type 3/,
    );
    assert.match(
      tlsaUnusable({ usage: 3, selector: 1, matchingType: 1, data: 'abcd' }) ?? '',
      /2 octets \(expected 32\)/,
    );
    assert.match(tlsaUnusable({ usage: 3, selector: 1, matchingType: 2, data: hash }) ?? '', /expected 64/);
    assert.match(
      tlsaUnusable({ usage: 3, selector: 1, matchingType: 0, data: '' }) ?? '',
      /not hex|no certificate/,
    );
    assert.match(tlsaUnusable({ usage: 3, selector: 1, matchingType: 1, data: 'xyz' }) ?? '', /not hex/);
    assert.match(
      tlsaUnusable({ usage: 0, selector: 1, matchingType: 1, data: hash }) ?? '',
      /PKIX-TA.*unusable for SMTP/,
    );
    assert.match(tlsaUnusable({ usage: 1, selector: 1, matchingType: 1, data: hash }) ?? '', /PKIX-EE/);
  });
});
