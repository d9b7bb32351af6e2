import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../../src/core/secret.js';
import { createSaslClient } from '../../../src/sasl/index.js';
import type { Credentials, SaslClient } from '../../../src/sasl/types.js';
import { authError } from './auth-error.js';

const PASSWORD = 'correct-horse-battery-staple';
const TOKEN = 'ya29.super-secret-token';
const binding = { type: 'tls-exporter' as const, data: Buffer.alloc(32, 7) };

describe('createSaslClient', () => {
  test('an unknown mechanism is EAUTH_UNSUPPORTED', () => {
    assert.throws(
      () => createSaslClient('GSSAPI', { user: 'u', pass: 'p' }),
      authError('EAUTH_UNSUPPORTED', /GSSAPI/),
    );
    assert.throws(
      () => createSaslClient('DIGEST-MD5', { user: 'u', pass: 'p' }),
      authError('EAUTH_UNSUPPORTED'),
    );
  });

  test('the wrong kind of credentials is EAUTH_UNSUPPORTED', () => {
    for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256']) {
      assert.throws(
        () => createSaslClient(mechanism, { user: 'u', accessToken: 't' }),
        authError('EAUTH_UNSUPPORTED'),
      );
    }
    for (const mechanism of ['XOAUTH2', 'OAUTHBEARER']) {
      assert.throws(
        () => createSaslClient(mechanism, { user: 'u', pass: 'p' }),
        authError('EAUTH_UNSUPPORTED'),
      );
    }
  });

  test('calling initialResponse() twice is refused', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
      const client = createSaslClient(mechanism, { user: 'u', pass: 'p' });
      await client.initialResponse();
      await assert.rejects(client.initialResponse(), authError('EAUTH_PROTOCOL'));
    }
  });
});

describe('secrets never show', () => {
  const cases: [string, Credentials][] = [
    ...['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'].map(
      (mechanism): [string, Credentials] => [mechanism, { user: 'u', pass: new Secret(PASSWORD) }],
    ),
    ['XOAUTH2', { user: 'u', accessToken: new Secret(TOKEN) }],
    ['OAUTHBEARER', { user: 'u', accessToken: async () => TOKEN }],
  ];

  function assertHidden(shown: string): void {
    assert.doesNotMatch(shown, new RegExp(PASSWORD));
    assert.doesNotMatch(shown, new RegExp(TOKEN.replace('.', '\\.')));
  }

  for (const [mechanism, credentials] of cases) {
    test(`${mechanism}: inspect and JSON of the client, before and after the first message`, async () => {
      const client: SaslClient = createSaslClient(mechanism, credentials, { channelBinding: binding });
      const show = () => {
        assertHidden(inspect(client, { showHidden: true, depth: Number.POSITIVE_INFINITY }));
        assertHidden(JSON.stringify(client));
        assertHidden(String(client));
      };
      show();
      await client.initialResponse();
      show();
    });
  }

  test('credentials holding Secrets inspect without the password or token', () => {
    assertHidden(inspect({ user: 'u', pass: new Secret(PASSWORD) }, { depth: 5 }));
    assertHidden(inspect({ user: 'u', accessToken: new Secret(TOKEN) }, { depth: 5 }));
    assertHidden(JSON.stringify({ user: 'u', pass: new Secret(PASSWORD), accessToken: new Secret(TOKEN) }));
  });

  test('errors about credentials do not contain them', () => {
    const attempts = [
      () => createSaslClient('SCRAM-SHA-256', { user: 'u', pass: `${PASSWORD}\u0000` }),
      () => createSaslClient('PLAIN', { user: 'u', pass: `${PASSWORD}\u0000` }),
    ];
    for (const attempt of attempts) {
      assert.throws(attempt, (err: unknown) => {
        assertHidden(`${String(err)} ${inspect(err)}`);
        return true;
      });
    }
  });
});
