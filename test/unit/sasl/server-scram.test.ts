import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Secret } from '../../../src/core/secret.js';
import {
  type ChannelBinding,
  createSaslClient,
  createSaslServer,
  type SaslServerContext,
  type SaslServerStep,
} from '../../../src/sasl/index.js';
import { deriveScramCredentials } from '../../../src/server/password-hash.js';
import {
  bytes,
  memoryStore,
  runExchange,
  SECRET_FOR_FAKE_SALTS,
  type StoreCall,
  text,
} from './server-harness.js';

const EXPORTER = randomBytes(32);
const END_POINT = randomBytes(32);
const withBinding: SaslServerContext = {
  secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
  channelBinding: { 'tls-exporter': EXPORTER, 'tls-server-end-point': END_POINT },
};
const withoutBinding: SaslServerContext = { secretForFakeSalts: SECRET_FOR_FAKE_SALTS };
const users = { user: { password: 'pencil' }, 'a,b=c': { password: 'p@ss,word=' } };

/** The fields of a server-first message. */
function serverFirstOf(step: SaslServerStep | undefined): { r: string; s: string; i: string } {
  assert.equal(step?.type, 'challenge');
  const fields = Object.fromEntries(
    text(step.type === 'challenge' ? step.data : undefined)!
      .split(',')
      .map((part) => [part[0], part.slice(2)]),
  );
  return { r: fields['r'], s: fields['s'], i: fields['i'] };
}

describe('SCRAM server: RFC test vectors from the server side', () => {
  // RFC 7677 §3 and RFC 5802 §5: given the example's nonces, salt and iteration count, the server's messages match.
  const vectors = [
    {
      mechanism: 'SCRAM-SHA-256',
      hash: 'SHA-256' as const,
      serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
      clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
      serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      clientFinal:
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    },
    {
      mechanism: 'SCRAM-SHA-1',
      hash: 'SHA-1' as const,
      serverNonce: '3rfcNHYJY1ZVvWVs7j',
      salt: 'QSXCR+Q6sek8bf92',
      clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
      serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
      clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
      serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
    },
  ];
  for (const vector of vectors) {
    test(`${vector.mechanism}: server-first and server-final are byte-exact`, async () => {
      const credentials = await deriveScramCredentials('pencil', vector.hash, {
        iterations: 4096,
        salt: Buffer.from(vector.salt, 'base64'),
      });
      const store = { scramCredentials: async (user: string) => (user === 'user' ? credentials : undefined) };
      const server = createSaslServer(vector.mechanism, store, {
        secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
        nonce: () => vector.serverNonce,
      });
      const first = await server.start(bytes(vector.clientFirst));
      assert.equal(first.type === 'challenge' && text(first.data), vector.serverFirst);
      const final = await server.next(bytes(vector.clientFinal));
      assert.equal(final.type, 'success');
      assert.equal(final.type === 'success' && text(final.data), vector.serverFinal);
      assert.deepEqual(await server.next(Buffer.alloc(0)), { type: 'success', user: 'user' });
    });
  }

  test('without an initial response the server asks for client-first with an empty challenge', async () => {
    const server = createSaslServer('SCRAM-SHA-256', await memoryStore(users), withoutBinding);
    assert.deepEqual(await server.start(undefined), { type: 'challenge', data: Buffer.alloc(0) });
    const first = await server.next(bytes('n,,n=user,r=abc'));
    assert.match(serverFirstOf(first).r, /^abc.{20,}/);
  });
});

describe('SCRAM server against Postern’s client, every combination', () => {
  const bindings: { name: string; client: ChannelBinding }[] = [
    { name: 'tls-exporter', client: { type: 'tls-exporter', data: EXPORTER } },
    { name: 'tls-server-end-point', client: { type: 'tls-server-end-point', data: END_POINT } },
  ];
  for (const family of ['SCRAM-SHA-256', 'SCRAM-SHA-1']) {
    for (const [user, { password }] of Object.entries(users)) {
      test(`${family} for "${user}" without channel binding`, async () => {
        const result = await runExchange(
          createSaslClient(family, { user, pass: new Secret(password) }),
          createSaslServer(family, await memoryStore(users), withoutBinding),
        );
        assert.equal(result.outcome, 'success', String('error' in result && result.error));
        assert.equal('user' in result && result.user, user);
        // start → server-first, client-final → success with server-final, empty ack → success.
        assert.deepEqual(
          result.steps.map((step) => step.type),
          ['challenge', 'success', 'success'],
        );
      });
    }
    for (const binding of bindings) {
      test(`${family}-PLUS with ${binding.name}`, async () => {
        const result = await runExchange(
          createSaslClient(
            `${family}-PLUS`,
            { user: 'user', pass: 'pencil' },
            { channelBinding: binding.client },
          ),
          createSaslServer(`${family}-PLUS`, await memoryStore(users), withBinding),
        );
        assert.equal(result.outcome, 'success', String('error' in result && result.error));
      });

      test(`${family}-PLUS with ${binding.name} bound to another connection fails with 'credentials'`, async () => {
        const other = { ...binding.client, data: randomBytes(32) };
        const result = await runExchange(
          createSaslClient(`${family}-PLUS`, { user: 'user', pass: 'pencil' }, { channelBinding: other }),
          createSaslServer(`${family}-PLUS`, await memoryStore(users), withBinding),
        );
        assert.deepEqual(result.steps.at(-1), { type: 'failure', reason: 'credentials' });
      });

      test(`${family}-PLUS with ${binding.name} when the server lacks that type is a protocol failure`, async () => {
        const only =
          binding.name === 'tls-exporter'
            ? { 'tls-server-end-point': END_POINT }
            : { 'tls-exporter': EXPORTER };
        const result = await runExchange(
          createSaslClient(
            `${family}-PLUS`,
            { user: 'user', pass: 'pencil' },
            { channelBinding: binding.client },
          ),
          createSaslServer(`${family}-PLUS`, await memoryStore(users), {
            secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
            channelBinding: only,
          }),
        );
        assert.deepEqual(result.steps, [{ type: 'failure', reason: 'protocol' }]);
      });
    }

    test(`${family}: a client that could bind says "y"; fine when the server has no binding`, async () => {
      const client = createSaslClient(
        family,
        { user: 'user', pass: 'pencil' },
        { channelBinding: bindings[0]!.client },
      );
      const result = await runExchange(
        client,
        createSaslServer(family, await memoryStore(users), withoutBinding),
      );
      assert.equal(text(result.responses[0])?.slice(0, 3), 'y,,');
      assert.equal(result.outcome, 'success');
    });

    test(`${family}: "y" while the server offers -PLUS is a downgrade and fails (RFC 5802 §6)`, async () => {
      const calls: StoreCall[] = [];
      const client = createSaslClient(
        family,
        { user: 'user', pass: 'pencil' },
        { channelBinding: bindings[0]!.client },
      );
      const result = await runExchange(
        client,
        createSaslServer(family, await memoryStore(users, { calls }), withBinding),
      );
      assert.deepEqual(result.steps, [{ type: 'failure', reason: 'mechanism-too-weak' }]);
      assert.deepEqual(calls, [], 'decided before any user lookup');
    });

    test(`${family}: "n" (a client without TLS binding) is fine even when the server could bind`, async () => {
      const result = await runExchange(
        createSaslClient(family, { user: 'user', pass: 'pencil' }),
        createSaslServer(family, await memoryStore(users), withBinding),
      );
      assert.equal(result.outcome, 'success');
    });

    test(`${family}: a wrong password fails with 'credentials' at the proof`, async () => {
      const result = await runExchange(
        createSaslClient(family, { user: 'user', pass: 'pencil2' }),
        createSaslServer(family, await memoryStore(users), withoutBinding),
      );
      assert.deepEqual(
        result.steps.map((step) => step.type),
        ['challenge', 'failure'],
      );
      assert.deepEqual(result.steps.at(-1), { type: 'failure', reason: 'credentials' });
    });
  }

  test('the GS2 authzid is reported when it names someone else', async () => {
    const result = await runExchange(
      createSaslClient('SCRAM-SHA-256', { user: 'user', pass: 'pencil', authzid: 'boss' }),
      createSaslServer('SCRAM-SHA-256', await memoryStore(users), withoutBinding),
    );
    assert.deepEqual(result.steps.at(-1), { type: 'success', user: 'user', authzid: 'boss' });
  });

  test('-PLUS flags: "n" or "y" with a -PLUS mechanism, "p" without one, are protocol failures', async () => {
    const store = await memoryStore(users);
    for (const [mechanism, message] of [
      ['SCRAM-SHA-256-PLUS', 'n,,n=user,r=abc'],
      ['SCRAM-SHA-256-PLUS', 'y,,n=user,r=abc'],
      ['SCRAM-SHA-256-PLUS', 'p=tls-unique,,n=user,r=abc'],
      ['SCRAM-SHA-256', 'p=tls-exporter,,n=user,r=abc'],
    ] as const) {
      const server = createSaslServer(mechanism, store, withBinding);
      assert.deepEqual(await server.start(bytes(message)), { type: 'failure', reason: 'protocol' }, message);
    }
  });
});

describe('SCRAM server: unknown users look like known ones', () => {
  async function attempt(user: string, pass: string, nonce = 'clientnonce') {
    const calls: StoreCall[] = [];
    const server = createSaslServer('SCRAM-SHA-256', await memoryStore(users, { calls }), {
      ...withoutBinding,
      nonce: () => 'servernonce',
    });
    const result = await runExchange(
      createSaslClient('SCRAM-SHA-256', { user, pass }, { nonce: () => nonce }),
      server,
    );
    return { result, calls };
  }

  test('same steps, same failure, and a server-first of the same shape', async () => {
    const wrong = await attempt('user', 'wrong');
    const unknown = await attempt('nobody', 'wrong');
    assert.deepEqual(
      unknown.result.steps.map((step) => step.type),
      wrong.result.steps.map((step) => step.type),
    );
    assert.deepEqual(unknown.result.steps.at(-1), wrong.result.steps.at(-1));
    assert.deepEqual(unknown.result.steps.at(-1), { type: 'failure', reason: 'credentials' });
    const [a, b] = [serverFirstOf(wrong.result.steps[0]), serverFirstOf(unknown.result.steps[0])];
    assert.equal(b.i, a.i);
    assert.equal(Buffer.from(b.s, 'base64').length, Buffer.from(a.s, 'base64').length);
    assert.deepEqual(unknown.calls, [{ method: 'scramCredentials', user: 'nobody' }]);
  });

  test('an unknown user’s salt is stable across attempts, differs per user, and uses the default count', async () => {
    const first = serverFirstOf((await attempt('nobody', 'x')).result.steps[0]);
    const again = serverFirstOf((await attempt('nobody', 'y', 'othernonce')).result.steps[0]);
    const someoneElse = serverFirstOf((await attempt('nobody2', 'x')).result.steps[0]);
    assert.equal(again.s, first.s);
    assert.notEqual(someoneElse.s, first.s);
    assert.equal(first.i, '10000');
    // Two spellings of one name (SASLprep maps the soft hyphen to nothing) get one salt, as a real user would.
    const spelled = serverFirstOf((await attempt('no\u00ADbody', 'x')).result.steps[0]);
    assert.equal(spelled.s, first.s);
  });

  test('the fake salt depends on the server secret', async () => {
    const start = (secret: Buffer) =>
      createSaslServer(
        'SCRAM-SHA-1',
        { scramCredentials: async () => undefined },
        { secretForFakeSalts: secret },
      ).start(bytes('n,,n=ghost,r=abc'));
    assert.notEqual(
      serverFirstOf(await start(randomBytes(32))).s,
      serverFirstOf(await start(randomBytes(32))).s,
    );
  });

  test('stored credentials below 4096 iterations are never used: the user cannot log in', async () => {
    const store = await memoryStore({ weak: { password: 'pencil', iterations: 1000 } });
    const result = await runExchange(
      createSaslClient('SCRAM-SHA-256', { user: 'weak', pass: 'pencil' }),
      createSaslServer('SCRAM-SHA-256', store, withoutBinding),
    );
    assert.equal(serverFirstOf(result.steps[0]).i, '10000');
    assert.deepEqual(result.steps.at(-1), { type: 'failure', reason: 'credentials' });
  });
});

describe('SCRAM server: tampered and malformed messages', () => {
  async function upToClientFinal() {
    const client = createSaslClient('SCRAM-SHA-256', { user: 'user', pass: 'pencil' });
    const server = createSaslServer('SCRAM-SHA-256', await memoryStore(users), withoutBinding);
    const first = await server.start(await client.initialResponse());
    assert.equal(first.type, 'challenge');
    const clientFinal = text(
      await client.respond(first.type === 'challenge' ? first.data : Buffer.alloc(0)),
    )!;
    return { server, clientFinal };
  }

  test('a changed nonce is a protocol failure; a changed proof or c= fails on credentials', async () => {
    const cases: [RegExp, string, string][] = [
      [/,r=([^,]+)/, ',r=$1x', 'protocol'],
      [/,p=(.)/, ',p=A', 'credentials'],
      [/^c=biws/, 'c=eSws', 'credentials'],
    ];
    for (const [pattern, replacement, reason] of cases) {
      const { server, clientFinal } = await upToClientFinal();
      const tampered = clientFinal.replace(pattern, replacement);
      assert.notEqual(tampered, clientFinal);
      assert.deepEqual(await server.next(bytes(tampered)), { type: 'failure', reason }, tampered);
    }
  });

  test('garbage, bad base64 in p=, a missing proof or a mandatory extension are protocol failures', async () => {
    for (const clientFinal of ['garbage', 'c=biws,r=x', 'c=biws,r=x,p=!!!!']) {
      const { server } = await upToClientFinal();
      assert.deepEqual(await server.next(bytes(clientFinal)), { type: 'failure', reason: 'protocol' });
    }
    for (const clientFirst of [
      '',
      'n,,m=ext,n=user,r=abc',
      'n,,n=us=3Fer,r=abc',
      'x,,n=user,r=abc',
      'n,,n=user',
    ]) {
      const server = createSaslServer('SCRAM-SHA-1', await memoryStore(users), withoutBinding);
      assert.deepEqual(
        await server.start(bytes(clientFirst)),
        { type: 'failure', reason: 'protocol' },
        clientFirst,
      );
    }
  });

  test('a non-empty answer to server-final is a protocol failure', async () => {
    const { server, clientFinal } = await upToClientFinal();
    assert.equal((await server.next(bytes(clientFinal))).type, 'success');
    assert.deepEqual(await server.next(bytes('x')), { type: 'failure', reason: 'protocol' });
  });

  test('creating SCRAM without a usable secretForFakeSalts throws', async () => {
    const store = await memoryStore(users);
    assert.throws(
      () => createSaslServer('SCRAM-SHA-256', store, { secretForFakeSalts: Buffer.alloc(4) }),
      /secretForFakeSalts/,
    );
  });
});
