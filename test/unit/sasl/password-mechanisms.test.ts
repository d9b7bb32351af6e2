// PLAIN, LOGIN and CRAM-MD5: the mechanisms without a key schedule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Secret } from '../../../src/core/secret.js';
import { cramMd5Digest } from '../../../src/sasl/cram-md5.js';
import { createSaslClient } from '../../../src/sasl/index.js';
import { decodePlainMessage, encodePlainMessage } from '../../../src/sasl/plain-message.js';
import { authError } from './auth-error.js';

describe('PLAIN (RFC 4616)', () => {
  test('authzid NUL authcid NUL passwd as the initial response', async () => {
    const client = createSaslClient('PLAIN', { user: 'tim', pass: new Secret('tanstaaf'), authzid: 'Ursel' });
    assert.equal(client.mechanism, 'PLAIN');
    assert.deepEqual(await client.initialResponse(), Buffer.from('Ursel\0tim\0tanstaaf'));
  });

  test('without an authzid the first field is empty', async () => {
    const client = createSaslClient('plain', { user: 'tim', pass: 'tanstaaf' });
    assert.deepEqual(await client.initialResponse(), Buffer.from('\0tim\0tanstaaf'));
  });

  test('without SASL-IR the empty challenge gets the message, and nothing more is answered', async () => {
    const client = createSaslClient('PLAIN', { user: 'tim', pass: 'tanstaaf' });
    assert.deepEqual(await client.respond(Buffer.alloc(0)), Buffer.from('\0tim\0tanstaaf'));
    await assert.rejects(client.respond(Buffer.alloc(0)), authError('EAUTH_PROTOCOL'));
  });

  test('UTF-8 is sent as is', async () => {
    const client = createSaslClient('PLAIN', { user: 'jörg', pass: 'pässwörd' });
    assert.deepEqual(await client.initialResponse(), Buffer.from('\0jörg\0pässwörd', 'utf8'));
  });

  test('NUL in a field or an empty user or password is refused at creation', () => {
    assert.throws(() => createSaslClient('PLAIN', { user: 'a\0b', pass: 'p' }), authError('EAUTH_PROTOCOL'));
    assert.throws(() => createSaslClient('PLAIN', { user: 'a', pass: 'p\0' }), authError('EAUTH_PROTOCOL'));
    assert.throws(() => createSaslClient('PLAIN', { user: '', pass: 'p' }), authError('EAUTH_PROTOCOL'));
    assert.throws(() => createSaslClient('PLAIN', { user: 'a', pass: '' }), authError('EAUTH_PROTOCOL'));
  });

  test('the message decodes back, with the password as a Secret', () => {
    const decoded = decodePlainMessage(
      encodePlainMessage({ authzid: 'z', authcid: 'tim', passwd: 'tanstaaf' }),
    );
    assert.equal(decoded.authzid, 'z');
    assert.equal(decoded.authcid, 'tim');
    assert.equal(decoded.passwd.reveal(), 'tanstaaf');
    assert.throws(() => decodePlainMessage(Buffer.from('tim\0tanstaaf')), authError('EAUTH_PROTOCOL'));
    assert.throws(() => decodePlainMessage(Buffer.from('\0\0pw')), authError('EAUTH_PROTOCOL'));
  });
});

describe('LOGIN', () => {
  test('waits for the server, then answers user name and password by order', async () => {
    const client = createSaslClient('LOGIN', { user: 'tim', pass: new Secret('tanstaaf') });
    assert.equal(await client.initialResponse(), undefined);
    assert.deepEqual(await client.respond(Buffer.from('Username:')), Buffer.from('tim'));
    assert.deepEqual(await client.respond(Buffer.from('Password:')), Buffer.from('tanstaaf'));
    await assert.rejects(client.respond(Buffer.from('Again?')), authError('EAUTH_PROTOCOL'));
  });

  test('the prompt text does not matter', async () => {
    const client = createSaslClient('login', { user: 'tim', pass: 'tanstaaf' });
    assert.deepEqual(await client.respond(Buffer.from('Benutzername:')), Buffer.from('tim'));
    assert.deepEqual(await client.respond(Buffer.alloc(0)), Buffer.from('tanstaaf'));
  });
});

describe('CRAM-MD5 (RFC 2195)', () => {
  const challenge = '<1896.697170952@postoffice.reston.mci.net>';

  test('the RFC 2195 example', async () => {
    const client = createSaslClient('CRAM-MD5', { user: 'tim', pass: 'tanstaaftanstaaf' });
    assert.equal(await client.initialResponse(), undefined);
    const response = await client.respond(Buffer.from(challenge));
    assert.equal(response.toString(), 'tim b913a602c7eda7a495b4e6e7334d3890');
    assert.equal(
      cramMd5Digest(new Secret('tanstaaftanstaaf'), challenge),
      'b913a602c7eda7a495b4e6e7334d3890',
    );
  });

  test('an empty or second challenge is a protocol error', async () => {
    const client = createSaslClient('CRAM-MD5', { user: 'tim', pass: 'tanstaaftanstaaf' });
    await assert.rejects(client.respond(Buffer.alloc(0)), authError('EAUTH_PROTOCOL'));
    await client.respond(Buffer.from(challenge));
    await assert.rejects(client.respond(Buffer.from(challenge)), authError('EAUTH_PROTOCOL'));
  });
});
