import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthError } from '../../../src/core/errors.js';
import {
  createSaslServer,
  decodeInitialResponse,
  decodeResponseLine,
  encodeChallenge,
  SASL_MECHANISMS,
  SASL_SERVER_MECHANISMS,
  serverMechanisms,
} from '../../../src/sasl/index.js';
import { memoryStore, SECRET_FOR_FAKE_SALTS } from './server-harness.js';

const context = { secretForFakeSalts: SECRET_FOR_FAKE_SALTS };

describe('serverMechanisms: what to advertise', () => {
  test('everything a full store can do, strongest first, under TLS with channel binding', async () => {
    const store = await memoryStore({});
    assert.deepEqual(serverMechanisms(store, { tls: true, channelBinding: true, allowCramMd5: true }), [
      'SCRAM-SHA-256-PLUS',
      'SCRAM-SHA-1-PLUS',
      'SCRAM-SHA-256',
      'SCRAM-SHA-1',
      'CRAM-MD5',
      'PLAIN',
      'LOGIN',
      'OAUTHBEARER',
      'XOAUTH2',
    ]);
  });

  test('CRAM-MD5 only when asked for; -PLUS only with binding data', async () => {
    const store = await memoryStore({});
    assert.deepEqual(serverMechanisms(store, { tls: true, channelBinding: false }), [
      'SCRAM-SHA-256',
      'SCRAM-SHA-1',
      'PLAIN',
      'LOGIN',
      'OAUTHBEARER',
      'XOAUTH2',
    ]);
  });

  test('without TLS nothing that sends a password or token in the clear', async () => {
    const store = await memoryStore({});
    assert.deepEqual(serverMechanisms(store, { tls: false, channelBinding: true, allowCramMd5: true }), [
      'SCRAM-SHA-256',
      'SCRAM-SHA-1',
      'CRAM-MD5',
    ]);
  });

  test('only what the store has methods for', () => {
    const verifyPassword = async () => false;
    assert.deepEqual(
      serverMechanisms({ verifyPassword }, { tls: true, channelBinding: true, allowCramMd5: true }),
      ['PLAIN', 'LOGIN'],
    );
    assert.deepEqual(serverMechanisms({}, { tls: true, channelBinding: true }), []);
  });

  test('the server knows every mechanism the client halves speak', () => {
    assert.deepEqual([...SASL_SERVER_MECHANISMS].sort(), [...SASL_MECHANISMS].sort());
  });
});

describe('createSaslServer', () => {
  const unsupported = (err: unknown) => err instanceof AuthError && err.code === 'EAUTH_UNSUPPORTED';

  test('throws EAUTH_UNSUPPORTED for an unknown mechanism, without echoing odd input', () => {
    assert.throws(() => createSaslServer('DIGEST-MD5', {}, context), unsupported);
    assert.throws(
      () => createSaslServer('X\r\nEVIL', {}, context),
      (err: unknown) => unsupported(err) && !(err as Error).message.includes('EVIL'),
    );
  });

  test('throws when the store cannot serve the mechanism, or -PLUS has no binding data', async () => {
    assert.throws(
      () => createSaslServer('CRAM-MD5', { verifyPassword: async () => false }, context),
      unsupported,
    );
    const store = await memoryStore({});
    assert.throws(() => createSaslServer('SCRAM-SHA-256-PLUS', store, context), unsupported);
    assert.throws(
      () =>
        createSaslServer(
          'SCRAM-SHA-256-PLUS',
          {},
          { ...context, channelBinding: { 'tls-exporter': Buffer.alloc(0) } },
        ),
      unsupported,
    );
  });

  test('names are case-insensitive and come back canonical', async () => {
    const server = createSaslServer('scram-sha-1', await memoryStore({}), context);
    assert.equal(server.mechanism, 'SCRAM-SHA-1');
  });
});

describe('SMTP framing of SASL (RFC 4954 §4)', () => {
  test('initial response: absent, "=" for empty, base64, and what is malformed', () => {
    assert.equal(decodeInitialResponse(undefined), undefined);
    assert.deepEqual(decodeInitialResponse('='), { kind: 'response', data: Buffer.alloc(0) });
    assert.deepEqual(decodeInitialResponse('AGFsaWNlAHB3'), {
      kind: 'response',
      data: Buffer.from('\0alice\0pw'),
    });
    for (const bad of ['*', '', 'AGFsaWNlAHB', 'AGFs aWNl', '====', 'AGFsaWNlAHB3=']) {
      assert.deepEqual(decodeInitialResponse(bad), { kind: 'malformed' }, bad);
    }
  });

  test('response lines: "*" cancels, empty is an empty response, base64 decodes strictly', () => {
    assert.deepEqual(decodeResponseLine('*'), { kind: 'cancel' });
    assert.deepEqual(decodeResponseLine(''), { kind: 'response', data: Buffer.alloc(0) });
    assert.deepEqual(decodeResponseLine('YWxpY2U='), { kind: 'response', data: Buffer.from('alice') });
    assert.deepEqual(decodeResponseLine('YWxpY2U'), { kind: 'malformed' });
    assert.deepEqual(decodeResponseLine('='), { kind: 'malformed' });
    assert.equal(encodeChallenge(Buffer.from('Username:')), 'VXNlcm5hbWU6');
    assert.equal(encodeChallenge(Buffer.alloc(0)), '');
  });
});
