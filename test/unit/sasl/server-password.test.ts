import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../../src/core/secret.js';
import { createSaslClient, createSaslServer, type SaslServerContext } from '../../../src/sasl/index.js';
import {
  bytes,
  memoryStore,
  runExchange,
  SECRET_FOR_FAKE_SALTS,
  type StoreCall,
  text,
} from './server-harness.js';

const context: SaslServerContext = { secretForFakeSalts: SECRET_FOR_FAKE_SALTS, hostname: 'mail.example' };
const users = { alice: { password: 'correct horse' }, 'bob@example.com': { password: 'pässwörd ☃' } };

describe('PLAIN, LOGIN and CRAM-MD5 against Postern’s client halves', () => {
  for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5']) {
    for (const [user, { password }] of Object.entries(users)) {
      test(`${mechanism}: ${user} with the right password is authenticated`, async () => {
        const client = createSaslClient(mechanism, { user, pass: new Secret(password) });
        const server = createSaslServer(mechanism, await memoryStore(users), context);
        assert.equal(server.mechanism, mechanism);
        const result = await runExchange(client, server);
        assert.deepEqual(
          { outcome: result.outcome, user: 'user' in result ? result.user : undefined },
          {
            outcome: 'success',
            user,
          },
        );
      });
    }

    test(`${mechanism}: a wrong password fails with 'credentials'`, async () => {
      const client = createSaslClient(mechanism, { user: 'alice', pass: 'correct horse!' });
      const result = await runExchange(
        client,
        createSaslServer(mechanism, await memoryStore(users), context),
      );
      assert.equal(result.outcome, 'failure');
      assert.equal('reason' in result && result.reason, 'credentials');
    });

    test(`${mechanism}: an unknown user takes the same steps and gets the same failure as a wrong password`, async () => {
      const calls: StoreCall[] = [];
      const store = await memoryStore(users, { calls });
      const wrong = await runExchange(
        createSaslClient(mechanism, { user: 'alice', pass: 'nope' }),
        createSaslServer(mechanism, store, context),
      );
      const unknown = await runExchange(
        createSaslClient(mechanism, { user: 'mallory', pass: 'nope' }),
        createSaslServer(mechanism, store, context),
      );
      assert.deepEqual(
        unknown.steps.map((step) => step.type),
        wrong.steps.map((step) => step.type),
      );
      assert.deepEqual(unknown.steps.at(-1), wrong.steps.at(-1));
      assert.deepEqual(unknown.steps.at(-1), { type: 'failure', reason: 'credentials' });
      // The store was asked about both, so a store that hashes does the same work for both.
      assert.deepEqual(
        calls.map((call) => call.method),
        [calls[0]!.method, calls[0]!.method],
      );
    });
  }

  test('PLAIN with an authzid reports it; an authzid equal to the user is dropped', async () => {
    const store = await memoryStore(users);
    const other = await runExchange(
      createSaslClient('PLAIN', { user: 'alice', pass: 'correct horse', authzid: 'shared@example.com' }),
      createSaslServer('PLAIN', store, context),
    );
    assert.deepEqual(other.steps.at(-1), { type: 'success', user: 'alice', authzid: 'shared@example.com' });
    const same = await runExchange(
      createSaslClient('PLAIN', { user: 'alice', pass: 'correct horse', authzid: 'alice' }),
      createSaslServer('PLAIN', store, context),
    );
    assert.deepEqual(same.steps.at(-1), { type: 'success', user: 'alice' });
  });

  test('PLAIN without an initial response sends an empty challenge first', async () => {
    const server = createSaslServer('PLAIN', await memoryStore(users), context);
    assert.deepEqual(await server.start(undefined), { type: 'challenge', data: Buffer.alloc(0) });
    assert.deepEqual(await server.next(bytes('\0alice\0correct horse')), { type: 'success', user: 'alice' });
  });

  test('LOGIN prompts with "Username:" and "Password:" (VXNlcm5hbWU6 / UGFzc3dvcmQ6)', async () => {
    const server = createSaslServer('login', await memoryStore(users), context);
    assert.equal(server.mechanism, 'LOGIN');
    const first = await server.start(undefined);
    assert.equal(first.type === 'challenge' && first.data.toString('base64'), 'VXNlcm5hbWU6');
    const second = await server.next(bytes('alice'));
    assert.equal(second.type === 'challenge' && second.data.toString('base64'), 'UGFzc3dvcmQ6');
    assert.deepEqual(await server.next(bytes('correct horse')), { type: 'success', user: 'alice' });
  });

  test('LOGIN takes the user name as an initial response', async () => {
    const server = createSaslServer('LOGIN', await memoryStore(users), context);
    const first = await server.start(bytes('alice'));
    assert.equal(first.type === 'challenge' && text(first.data), 'Password:');
    assert.deepEqual(await server.next(bytes('correct horse')), { type: 'success', user: 'alice' });
  });

  test('user names are SASLprep’d before the store sees them (soft hyphen, full-width letters)', async () => {
    const store = await memoryStore({ alice: { password: 'correct horse' } });
    const plain = createSaslServer('PLAIN', store, context);
    assert.deepEqual(await plain.start(bytes('\0al\u00ADice\0correct horse')), {
      type: 'success',
      user: 'alice',
    });
    const login = createSaslServer('LOGIN', store, context);
    await login.start(bytes('ａｌｉｃｅ'));
    assert.deepEqual(await login.next(bytes('correct horse')), { type: 'success', user: 'alice' });
  });
});

describe('CRAM-MD5 server specifics', () => {
  test('RFC 2195 §2 example: the challenge and the response "tim b913a6…" authenticate tim', async () => {
    const store = await memoryStore({ tim: { password: 'tanstaaftanstaaf' } });
    const server = createSaslServer('CRAM-MD5', store, {
      secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
      hostname: 'postoffice.reston.mci.net',
      nonce: () => '1896.697170952',
    });
    const first = await server.start(undefined);
    assert.equal(
      first.type === 'challenge' && text(first.data),
      '<1896.697170952@postoffice.reston.mci.net>',
    );
    assert.deepEqual(await server.next(bytes('tim b913a602c7eda7a495b4e6e7334d3890')), {
      type: 'success',
      user: 'tim',
    });
  });

  test('a fresh challenge each time, in msg-id form with the host name', async () => {
    const store = await memoryStore(users);
    const a = await createSaslServer('CRAM-MD5', store, context).start(undefined);
    const b = await createSaslServer('CRAM-MD5', store, context).start(undefined);
    assert.match(text(a.type === 'challenge' ? a.data : undefined)!, /^<[0-9]+\.[0-9]+@mail\.example>$/);
    assert.notDeepEqual(a, b);
  });

  test('an initial response, or a response that is not "user SP 32 hex digits", is a protocol failure', async () => {
    const store = await memoryStore(users);
    assert.deepEqual(await createSaslServer('CRAM-MD5', store, context).start(bytes('alice')), {
      type: 'failure',
      reason: 'protocol',
    });
    for (const response of ['alice', 'alice b913a602', 'alice zz13a602c7eda7a495b4e6e7334d3890', '']) {
      const server = createSaslServer('CRAM-MD5', store, context);
      await server.start(undefined);
      assert.deepEqual(await server.next(bytes(response)), { type: 'failure', reason: 'protocol' }, response);
    }
  });
});

describe('failures that are not about credentials', () => {
  test('malformed PLAIN (two fields, not UTF-8, empty) is a protocol failure', async () => {
    for (const message of [
      bytes('alice\0pw'),
      Buffer.from([0, 0xff, 0, 0x41]),
      Buffer.alloc(0),
      bytes('\0\0'),
    ]) {
      const server = createSaslServer('PLAIN', await memoryStore(users), context);
      assert.deepEqual(await server.start(message), { type: 'failure', reason: 'protocol' });
    }
  });

  test('LOGIN with an empty or non-UTF-8 user name is a protocol failure', async () => {
    for (const name of [Buffer.alloc(0), Buffer.from([0xc3])]) {
      const server = createSaslServer('LOGIN', await memoryStore(users), context);
      assert.deepEqual(await server.start(name), { type: 'failure', reason: 'protocol' });
    }
  });

  test('a store that throws gives a temporary failure, never a rejection', async () => {
    const store = {
      async verifyPassword(): Promise<boolean> {
        throw new Error('database down');
      },
    };
    const server = createSaslServer('PLAIN', store, context);
    assert.deepEqual(await server.start(bytes('\0alice\0pw')), { type: 'failure', reason: 'temporary' });
  });

  test('after the end every call is a protocol failure, and so is start() twice', async () => {
    const server = createSaslServer('PLAIN', await memoryStore(users), context);
    await server.start(bytes('\0alice\0correct horse'));
    assert.deepEqual(await server.next(Buffer.alloc(0)), { type: 'failure', reason: 'protocol' });
    assert.deepEqual(await server.start(undefined), { type: 'failure', reason: 'protocol' });
    const fresh = createSaslServer('LOGIN', await memoryStore(users), context);
    assert.deepEqual(await fresh.next(bytes('alice')), { type: 'failure', reason: 'protocol' });
  });

  test('a password that SASLprep refuses fails like a wrong one, without asking the store', async () => {
    const calls: StoreCall[] = [];
    const server = createSaslServer('PLAIN', await memoryStore(users, { calls }), context);
    assert.deepEqual(await server.start(bytes('\0alice\0pass\u0007word')), {
      type: 'failure',
      reason: 'credentials',
    });
    assert.deepEqual(calls, []);
  });

  test('a server half shows only its mechanism to inspect and JSON', async () => {
    const server = createSaslServer('PLAIN', await memoryStore(users), context);
    await server.start(undefined);
    assert.equal(inspect(server), 'SaslServer(PLAIN)');
    assert.equal(JSON.stringify(server), '{"mechanism":"PLAIN"}');
  });
});
