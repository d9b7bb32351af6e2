import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSaslClient, createSaslServer, type SaslServerContext } from '../../../src/sasl/index.js';
import {
  bytes,
  memoryStore,
  runExchange,
  SECRET_FOR_FAKE_SALTS,
  type StoreCall,
  text,
} from './server-harness.js';

const context: SaslServerContext = { secretForFakeSalts: SECRET_FOR_FAKE_SALTS };
const users = {
  'someuser@example.com': { password: 'unused', token: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg' },
};
const USER = 'someuser@example.com';
const TOKEN = users[USER].token;

describe('XOAUTH2 and OAUTHBEARER against Postern’s client halves', () => {
  for (const mechanism of ['XOAUTH2', 'OAUTHBEARER']) {
    test(`${mechanism}: a valid token authenticates its user`, async () => {
      const calls: StoreCall[] = [];
      const result = await runExchange(
        createSaslClient(mechanism, { user: USER, accessToken: TOKEN }, { host: 'mail.example', port: 587 }),
        createSaslServer(mechanism, await memoryStore(users, { calls }), context),
      );
      assert.deepEqual(result.steps, [{ type: 'success', user: USER }]);
      assert.deepEqual(calls, [{ method: `verifyToken ${mechanism}`, user: USER }]);
    });

    test(`${mechanism}: a refused token gets the JSON error challenge, the client's dummy answer, then 'credentials'`, async () => {
      const client = createSaslClient(mechanism, { user: USER, accessToken: 'expired-token' });
      const result = await runExchange(
        client,
        createSaslServer(mechanism, await memoryStore(users), context),
      );
      assert.equal(result.steps.length, 2);
      const [first, last] = result.steps;
      assert.equal(first?.type, 'failure');
      assert.deepEqual(JSON.parse(text(first?.type === 'failure' ? first.errorChallenge : undefined)!), {
        status: 'invalid_token',
        scope: 'https://mail.example/',
      });
      // RFC 7628 §3.2.3: OAUTHBEARER answers with ^A; XOAUTH2 with an empty line.
      assert.deepEqual(
        result.responses.at(-1),
        mechanism === 'OAUTHBEARER' ? Buffer.from([1]) : Buffer.alloc(0),
      );
      assert.deepEqual(last, { type: 'failure', reason: 'credentials' });
      assert.deepEqual(client.errorChallenge, { status: 'invalid_token', scope: 'https://mail.example/' });
    });

    test(`${mechanism}: an unknown user gets exactly what a wrong token gets`, async () => {
      const store = await memoryStore(users);
      const wrong = await runExchange(
        createSaslClient(mechanism, { user: USER, accessToken: 'nope' }),
        createSaslServer(mechanism, store, context),
      );
      const unknown = await runExchange(
        createSaslClient(mechanism, { user: 'ghost@example.com', accessToken: 'nope' }),
        createSaslServer(mechanism, store, context),
      );
      assert.deepEqual(unknown.steps, wrong.steps);
    });

    test(`${mechanism}: without an initial response an empty challenge comes first`, async () => {
      const server = createSaslServer(mechanism, await memoryStore(users), context);
      assert.deepEqual(await server.start(undefined), { type: 'challenge', data: Buffer.alloc(0) });
    });

    test(`${mechanism}: garbage is a protocol failure; a store that throws is temporary`, async () => {
      const server = createSaslServer(mechanism, await memoryStore(users), context);
      assert.deepEqual(await server.start(bytes('user=x')), { type: 'failure', reason: 'protocol' });
      const failing = createSaslServer(
        mechanism,
        {
          verifyToken: async () => {
            throw new Error('introspection endpoint down');
          },
        },
        context,
      );
      const message = await createSaslClient(mechanism, { user: USER, accessToken: TOKEN }).initialResponse();
      assert.deepEqual(await failing.start(message), { type: 'failure', reason: 'temporary' });
    });
  }

  test('XOAUTH2: the store’s schemes and status go into the challenge; the default is Google’s 401/bearer', async () => {
    const rejecting = {
      verifyToken: async () => ({ status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' }),
    };
    const message = await createSaslClient('XOAUTH2', { user: USER, accessToken: 'x' }).initialResponse();
    const step = await createSaslServer('XOAUTH2', rejecting, context).start(message);
    assert.equal(
      text(step.type === 'failure' ? step.errorChallenge : undefined),
      '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}',
    );
    const odd = { verifyToken: async () => false as unknown as true };
    const fallback = await createSaslServer('XOAUTH2', odd, context).start(message);
    assert.deepEqual(fallback.type === 'failure' && fallback.reason, 'credentials');
    assert.equal(
      text(fallback.type === 'failure' ? fallback.errorChallenge : undefined),
      '{"status":"401","schemes":"bearer"}',
    );
  });

  test('OAUTHBEARER without the user ("a=") is a protocol failure', async () => {
    const server = createSaslServer('OAUTHBEARER', await memoryStore(users), context);
    assert.deepEqual(await server.start(bytes(`n,,\x01auth=Bearer ${TOKEN}\x01\x01`)), {
      type: 'failure',
      reason: 'protocol',
    });
  });
});
