// XOAUTH2 and OAUTHBEARER: exact bytes, error challenges and the token provider's refresh flag.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Secret } from '../../../src/core/secret.js';
import { decodeOAuthBearer, decodeXoauth2 } from '../../../src/sasl/bearer-messages.js';
import { createSaslClient } from '../../../src/sasl/index.js';
import { authError } from './auth-error.js';

// Google's XOAUTH2 documentation example, and its error challenge.
const GOOGLE_USER = 'someuser@example.com';
const GOOGLE_TOKEN = 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg';
const GOOGLE_RESPONSE =
  'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==';
const GOOGLE_ERROR =
  'eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K';

// RFC 7628 §4.1.
const RFC_TOKEN = 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==';
const RFC_ERROR =
  '{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}';

describe('XOAUTH2', () => {
  test('the documented initial response, byte for byte', async () => {
    const client = createSaslClient('XOAUTH2', { user: GOOGLE_USER, accessToken: new Secret(GOOGLE_TOKEN) });
    assert.equal(client.mechanism, 'XOAUTH2');
    const initial = await client.initialResponse();
    assert.equal(initial?.toString('utf8'), `user=${GOOGLE_USER}\x01auth=Bearer ${GOOGLE_TOKEN}\x01\x01`);
    assert.equal(initial?.toString('base64'), GOOGLE_RESPONSE);
    assert.equal(decodeXoauth2(initial!).token.reveal(), GOOGLE_TOKEN);
  });

  test('an error challenge is recorded and answered with an empty response', async () => {
    const client = createSaslClient('XOAUTH2', { user: GOOGLE_USER, accessToken: GOOGLE_TOKEN });
    await client.initialResponse();
    assert.equal(client.errorChallenge, undefined);
    const response = await client.respond(Buffer.from(GOOGLE_ERROR, 'base64'));
    assert.equal(response.length, 0);
    assert.deepEqual(client.errorChallenge, {
      status: '401',
      schemes: 'bearer mac',
      scope: 'https://mail.google.com/',
    });
    await assert.rejects(client.respond(Buffer.alloc(0)), authError('EAUTH_PROTOCOL'));
  });

  test('a user is required and a token with spaces or control characters is refused', async () => {
    assert.throws(
      () => createSaslClient('XOAUTH2', { user: '', accessToken: 't' }),
      authError('EAUTH_PROTOCOL'),
    );
    for (const token of ['', 'Bearer abc', 'a\x01b', 'a\r\nb']) {
      const client = createSaslClient('XOAUTH2', { user: 'u', accessToken: token });
      await assert.rejects(client.initialResponse(), (err: unknown) => {
        return authError('EAUTH_PROTOCOL')(err) && (token === '' || !(err as Error).message.includes(token));
      });
    }
  });
});

describe('OAUTHBEARER (RFC 7628)', () => {
  test('gs2 header, host, port and token, byte for byte', async () => {
    const client = createSaslClient(
      'OAUTHBEARER',
      { user: 'user@example.com', accessToken: RFC_TOKEN },
      { host: 'server.example.com', port: 143 },
    );
    const initial = await client.initialResponse();
    assert.equal(
      initial?.toString('utf8'),
      `n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer ${RFC_TOKEN}\x01\x01`,
    );
    const decoded = decodeOAuthBearer(initial!);
    assert.equal(decoded.authzid, 'user@example.com');
    assert.equal(decoded.host, 'server.example.com');
    assert.equal(decoded.port, 143);
    assert.equal(decoded.token.reveal(), RFC_TOKEN);
  });

  test('host and port are left out when unknown, and "," or "=" in the user are escaped', async () => {
    const client = createSaslClient('OAUTHBEARER', { user: 'a,b=c', accessToken: 't0k' });
    assert.equal((await client.initialResponse())?.toString(), 'n,a=a=2Cb=3Dc,\x01auth=Bearer t0k\x01\x01');
  });

  test('the JSON error challenge is recorded and answered with a single 0x01', async () => {
    const client = createSaslClient('OAUTHBEARER', { user: 'user@example.com', accessToken: RFC_TOKEN });
    await client.initialResponse();
    assert.deepEqual(await client.respond(Buffer.from(RFC_ERROR)), Buffer.from([0x01]));
    assert.deepEqual(client.errorChallenge, JSON.parse(RFC_ERROR));
  });

  test('an error challenge that is not JSON still counts as one', async () => {
    const client = createSaslClient('OAUTHBEARER', { user: 'u', accessToken: 't' });
    await client.initialResponse();
    await client.respond(Buffer.from('nope'));
    assert.deepEqual(client.errorChallenge, {});
  });

  test('without SASL-IR the first, empty challenge gets the token message', async () => {
    const client = createSaslClient('OAUTHBEARER', { user: 'u', accessToken: 't' });
    assert.equal((await client.respond(Buffer.alloc(0))).toString(), 'n,a=u,\x01auth=Bearer t\x01\x01');
    assert.equal(client.errorChallenge, undefined);
  });
});

describe('token providers', () => {
  for (const mechanism of ['XOAUTH2', 'OAUTHBEARER']) {
    test(`${mechanism} asks the provider for a token with the refresh flag of the context`, async () => {
      const calls: boolean[] = [];
      const accessToken = async ({ refresh }: { refresh: boolean }) => {
        calls.push(refresh);
        return refresh ? 'fresh' : 'stale';
      };
      const first = await createSaslClient(mechanism, { user: 'u', accessToken }).initialResponse();
      assert.match(first!.toString(), /auth=Bearer stale\x01/);
      const retry = createSaslClient(mechanism, { user: 'u', accessToken }, { refreshToken: true });
      assert.match((await retry.initialResponse())!.toString(), /auth=Bearer fresh\x01/);
      assert.deepEqual(calls, [false, true]);
    });
  }

  test('a provider that throws becomes AuthError EAUTH_FAILED with the cause', async () => {
    const cause = new Error('token endpoint down');
    const client = createSaslClient('XOAUTH2', {
      user: 'u',
      accessToken: () => {
        throw cause;
      },
    });
    await assert.rejects(client.initialResponse(), (err: unknown) => {
      return authError('EAUTH_FAILED')(err) && (err as Error).cause === cause;
    });
  });

  test('a synchronous provider works', async () => {
    const client = createSaslClient('XOAUTH2', { user: 'u', accessToken: () => 'sync' });
    assert.match((await client.initialResponse())!.toString(), /Bearer sync/);
  });
});
