// The primitives a server half will reuse: GS2 header, saslname, SCRAM message grammar and key schedule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeSaslname, encodeGs2Header, encodeSaslname, parseGs2Header } from '../../../src/sasl/gs2.js';
import {
  authMessage,
  computeServerSignature,
  deriveScramKeys,
  SCRAM_HASHES,
  verifyClientProof,
} from '../../../src/sasl/scram-core.js';
import {
  encodeServerFinal,
  encodeServerFirst,
  parseClientFinal,
  parseClientFirst,
  parseScramAttributes,
  parseServerFinal,
  parseServerFirst,
} from '../../../src/sasl/scram-messages.js';
import { authError } from './auth-error.js';

describe('GS2 header and saslname', () => {
  test('encodes the three channel-binding flags and an authzid', () => {
    assert.equal(encodeGs2Header({ channelBinding: { flag: 'n' } }), 'n,,');
    assert.equal(encodeGs2Header({ channelBinding: { flag: 'y' } }), 'y,,');
    assert.equal(
      encodeGs2Header({ channelBinding: { flag: 'p', name: 'tls-exporter' }, authzid: 'a=b' }),
      'p=tls-exporter,a=a=3Db,',
    );
  });

  test('parses what it encodes', () => {
    const parsed = parseGs2Header('p=tls-server-end-point,a=x=2Cy,n=user,r=abc');
    assert.deepEqual(parsed.header, {
      channelBinding: { flag: 'p', name: 'tls-server-end-point' },
      authzid: 'x,y',
    });
    assert.equal(parsed.raw, 'p=tls-server-end-point,a=x=2Cy,');
    assert.equal(parsed.rest, 'n=user,r=abc');
  });

  test('refuses malformed headers', () => {
    for (const message of ['n', 'x,,n=u', 'p=,,n=u', 'n,b=z,n=u', 'n,a=bad=escape,n=u', 'n,a=,n=u']) {
      assert.throws(() => parseGs2Header(message), authError('EAUTH_PROTOCOL'), message);
    }
  });

  test('saslname escaping round-trips any text without NUL', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (value) => {
        fc.pre(!value.includes('\0'));
        const encoded = encodeSaslname(value);
        assert.doesNotMatch(encoded, /,/);
        assert.equal(decodeSaslname(encoded), value);
      }),
    );
  });

  test('a NUL or an empty name cannot be encoded', () => {
    assert.throws(() => encodeSaslname('a\0b'), authError('EAUTH_PROTOCOL'));
    assert.throws(() => encodeSaslname(''), authError('EAUTH_PROTOCOL'));
  });
});

describe('SCRAM message grammar (RFC 7677 §3 messages)', () => {
  const serverFirst =
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const clientFinal =
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';

  test('attributes keep their order and "=" inside values', () => {
    assert.deepEqual(parseScramAttributes('s=QSXCR+Q6sek8bf92==,i=1'), [
      ['s', 'QSXCR+Q6sek8bf92=='],
      ['i', '1'],
    ]);
    assert.throws(() => parseScramAttributes('a=1,,b=2'), authError('EAUTH_PROTOCOL'));
  });

  test('client-first', () => {
    const parsed = parseClientFirst('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    assert.equal(parsed.username, 'user');
    assert.equal(parsed.nonce, 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(parsed.bare, 'n=user,r=rOprNGfwEbeRWgbNEkqO');
    assert.equal(parsed.gs2HeaderRaw, 'n,,');
    assert.throws(() => parseClientFirst('n,,m=x,n=user,r=abc'), authError('EAUTH_PROTOCOL'));
  });

  test('server-first round-trips', () => {
    const parsed = parseServerFirst(serverFirst);
    assert.equal(parsed.iterations, 4096);
    assert.equal(encodeServerFirst(parsed), serverFirst);
  });

  test('client-final', () => {
    const parsed = parseClientFinal(clientFinal);
    assert.equal(parsed.channelBinding.toString(), 'n,,');
    assert.equal(parsed.withoutProof, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    assert.equal(parsed.proof.length, 32);
    assert.throws(() => parseClientFinal('c=biws,r=abc'), authError('EAUTH_PROTOCOL'));
  });

  test('server-final, both kinds', () => {
    const verifier = parseServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    assert.equal(encodeServerFinal(verifier), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    assert.deepEqual(parseServerFinal('e=unknown-user'), { kind: 'error', error: 'unknown-user' });
    assert.throws(() => parseServerFinal('x=1'), authError('EAUTH_PROTOCOL'));
  });

  test('the key schedule verifies the RFC client proof and yields the RFC server signature', async () => {
    const hash = SCRAM_HASHES['SCRAM-SHA-256'];
    const first = parseServerFirst(serverFirst);
    const keys = await deriveScramKeys(hash, 'pencil', first.salt, first.iterations);
    const final = parseClientFinal(clientFinal);
    const message = authMessage('n=user,r=rOprNGfwEbeRWgbNEkqO', serverFirst, final.withoutProof);
    assert.ok(verifyClientProof(hash, keys.storedKey, message, final.proof));
    const tampered = Buffer.from(final.proof);
    tampered[5]! ^= 0x40;
    assert.ok(!verifyClientProof(hash, keys.storedKey, message, tampered));
    assert.equal(
      computeServerSignature(hash, keys.serverKey, message).toString('base64'),
      '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    );
  });
});
