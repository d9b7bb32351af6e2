import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../../src/core/secret.js';
import { createSaslClient } from '../../../src/sasl/index.js';
import type { ChannelBinding, SaslClient } from '../../../src/sasl/types.js';
import { authError } from './auth-error.js';

const text = (buffer: Buffer | undefined) => buffer?.toString('utf8');
const bytes = (value: string) => Buffer.from(value, 'utf8');

// RFC 7677 §3.
const SHA256 = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

// RFC 5802 §5.
const SHA1 = {
  nonce: 'fyko+d2lbbFgONRv9qkxdawL',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

function rfc7677Client(context: { channelBinding?: ChannelBinding } = {}): SaslClient {
  return createSaslClient(
    'SCRAM-SHA-256',
    { user: 'user', pass: new Secret('pencil') },
    {
      ...context,
      nonce: () => SHA256.nonce,
    },
  );
}

/** Runs client-first and server-first, returning the client-final the client produced. */
async function upToClientFinal(client: SaslClient, serverFirst = SHA256.serverFirst): Promise<string> {
  await client.initialResponse();
  return text(await client.respond(bytes(serverFirst)))!;
}

describe('SCRAM test vectors', () => {
  test('RFC 7677 SCRAM-SHA-256: client-first, client-final and server signature are byte-exact', async () => {
    const client = rfc7677Client();
    assert.equal(client.mechanism, 'SCRAM-SHA-256');
    assert.equal(text(await client.initialResponse()), SHA256.clientFirst);
    assert.equal(text(await client.respond(bytes(SHA256.serverFirst))), SHA256.clientFinal);
    assert.equal((await client.respond(bytes(SHA256.serverFinal))).length, 0);
    client.finish();
  });

  test('RFC 5802 SCRAM-SHA-1: client-first, client-final and server signature are byte-exact', async () => {
    const client = createSaslClient(
      'scram-sha-1',
      { user: 'user', pass: 'pencil' },
      { nonce: () => SHA1.nonce },
    );
    assert.equal(client.mechanism, 'SCRAM-SHA-1');
    assert.equal(text(await client.initialResponse()), SHA1.clientFirst);
    assert.equal(text(await client.respond(bytes(SHA1.serverFirst))), SHA1.clientFinal);
    assert.equal((await client.respond(bytes(SHA1.serverFinal))).length, 0);
    client.finish();
  });

  test('without SASL-IR the first, empty challenge yields client-first', async () => {
    const client = rfc7677Client();
    assert.equal(text(await client.respond(Buffer.alloc(0))), SHA256.clientFirst);
    assert.equal(text(await client.respond(bytes(SHA256.serverFirst))), SHA256.clientFinal);
  });

  test('a fresh random nonce is at least 24 bytes of base64', async () => {
    const first = text(await createSaslClient('SCRAM-SHA-256', { user: 'u', pass: 'p' }).initialResponse())!;
    const nonce = /,r=(.+)$/.exec(first)?.[1] ?? '';
    assert.ok(Buffer.from(nonce, 'base64').length >= 24);
    assert.doesNotMatch(nonce, /,/);
  });
});

describe('SCRAM refuses a server that does not prove itself', () => {
  test('a wrong server signature is EAUTH_SERVER_SIGNATURE, and finish() refuses too', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    const wrong = Buffer.from('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', 'base64');
    wrong[0]! ^= 1;
    await assert.rejects(
      client.respond(bytes(`v=${wrong.toString('base64')}`)),
      authError('EAUTH_SERVER_SIGNATURE'),
    );
    assert.throws(() => client.finish(), authError('EAUTH_SERVER_SIGNATURE'));
  });

  test('a truncated server signature is EAUTH_SERVER_SIGNATURE', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    await assert.rejects(client.respond(bytes('v=6rriTRBi')), authError('EAUTH_SERVER_SIGNATURE'));
  });

  test('finish() without any server-final is EAUTH_SERVER_SIGNATURE', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    assert.throws(() => client.finish(), authError('EAUTH_SERVER_SIGNATURE'));
  });

  test('finish() before the exchange even started is EAUTH_SERVER_SIGNATURE', () => {
    assert.throws(() => rfc7677Client().finish(), authError('EAUTH_SERVER_SIGNATURE'));
  });

  test('a server-final "e=" is EAUTH_FAILED with the reason', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    await assert.rejects(
      client.respond(bytes('e=invalid-proof')),
      authError('EAUTH_FAILED', /invalid-proof/),
    );
    assert.throws(() => client.finish(), authError('EAUTH_SERVER_SIGNATURE'));
  });

  test('a challenge after the verified server-final is a protocol error', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    await client.respond(bytes(SHA256.serverFinal));
    await assert.rejects(client.respond(Buffer.alloc(0)), authError('EAUTH_PROTOCOL'));
  });
});

describe('SCRAM checks server-first', () => {
  const serverFirst = (nonce: string, salt: string, iterations: string) =>
    `r=${nonce},s=${salt},i=${iterations}`;
  const combined = `${SHA256.nonce}%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0`;

  test('a server nonce that does not extend the client nonce is refused', async () => {
    for (const nonce of ['XXprNGfwEbeRWgbNEkqO%hvYD', SHA256.nonce, 'rOprNG']) {
      await assert.rejects(
        upToClientFinal(rfc7677Client(), serverFirst(nonce, 'W22ZaJ0SNY7soEsUEjb6gQ==', '4096')),
        authError('EAUTH_PROTOCOL', /nonce/),
      );
    }
  });

  test('an iteration count of 1000 is refused as a downgrade', async () => {
    await assert.rejects(
      upToClientFinal(rfc7677Client(), serverFirst(combined, 'W22ZaJ0SNY7soEsUEjb6gQ==', '1000')),
      authError('EAUTH_PROTOCOL', /1000/),
    );
  });

  test('an absurd iteration count is refused instead of burning CPU', async () => {
    await assert.rejects(
      upToClientFinal(rfc7677Client(), serverFirst(combined, 'W22ZaJ0SNY7soEsUEjb6gQ==', '4000000000')),
      authError('EAUTH_PROTOCOL'),
    );
  });

  test('a missing or empty salt, a bad count, "m=", and garbage are refused', async () => {
    const bad = [
      `r=${combined},i=4096`,
      serverFirst(combined, '', '4096'),
      serverFirst(combined, 'not base64!', '4096'),
      serverFirst(combined, 'W22ZaJ0SNY7soEsUEjb6gQ==', '04096'),
      serverFirst(combined, 'W22ZaJ0SNY7soEsUEjb6gQ==', '-1'),
      `m=ext,${serverFirst(combined, 'W22ZaJ0SNY7soEsUEjb6gQ==', '4096')}`,
      'hello',
      '',
    ];
    for (const message of bad) {
      await assert.rejects(upToClientFinal(rfc7677Client(), message), authError('EAUTH_PROTOCOL'), message);
    }
  });

  test('extensions after the iteration count are ignored but signed', async () => {
    const client = rfc7677Client();
    const final = await upToClientFinal(client, `${SHA256.serverFirst},x=ext`);
    assert.match(final, /^c=biws,r=[^,]+,p=/);
    assert.notEqual(final, SHA256.clientFinal);
  });
});

describe('SCRAM GS2 header and channel binding', () => {
  const data = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

  for (const type of ['tls-exporter', 'tls-server-end-point'] as const) {
    test(`SCRAM-SHA-256-PLUS with ${type} binds c= to the GS2 header and the binding data`, async () => {
      const client = createSaslClient(
        'SCRAM-SHA-256-PLUS',
        { user: 'user', pass: 'pencil' },
        { channelBinding: { type, data }, nonce: () => SHA256.nonce },
      );
      assert.equal(client.mechanism, 'SCRAM-SHA-256-PLUS');
      const header = `p=${type},,`;
      assert.equal(text(await client.initialResponse()), `${header}n=user,r=${SHA256.nonce}`);
      const final = text(await client.respond(bytes(SHA256.serverFirst)))!;
      const expectedC = Buffer.concat([Buffer.from(header), data]).toString('base64');
      assert.equal(final.split(',')[0], `c=${expectedC}`);
    });
  }

  test('SCRAM-SHA-1-PLUS with an authzid', async () => {
    const client = createSaslClient(
      'SCRAM-SHA-1-PLUS',
      { user: 'user', pass: 'pencil', authzid: 'admin' },
      { channelBinding: { type: 'tls-exporter', data }, nonce: () => SHA1.nonce },
    );
    assert.equal(text(await client.initialResponse()), `p=tls-exporter,a=admin,n=user,r=${SHA1.nonce}`);
  });

  test('-PLUS without channel binding is EAUTH_UNSUPPORTED', () => {
    assert.throws(
      () => createSaslClient('SCRAM-SHA-256-PLUS', { user: 'user', pass: 'pencil' }),
      authError('EAUTH_UNSUPPORTED'),
    );
    assert.throws(
      () =>
        createSaslClient(
          'SCRAM-SHA-1-PLUS',
          { user: 'user', pass: 'pencil' },
          { channelBinding: { type: 'tls-exporter', data: Buffer.alloc(0) } },
        ),
      authError('EAUTH_UNSUPPORTED'),
    );
  });

  test('a client able to bind that uses plain SCRAM says "y" (the server did not offer -PLUS)', async () => {
    const client = rfc7677Client({ channelBinding: { type: 'tls-exporter', data } });
    assert.equal(text(await client.initialResponse()), `y,,n=user,r=${SHA256.nonce}`);
    assert.match(text(await client.respond(bytes(SHA256.serverFirst)))!, /^c=eSws,/);
  });

  test('an authzid and a user name with "," and "=" are escaped', async () => {
    const client = createSaslClient(
      'SCRAM-SHA-256',
      { user: 'a,b=c', pass: 'pencil', authzid: 'x=y,z' },
      { nonce: () => SHA256.nonce },
    );
    assert.equal(text(await client.initialResponse()), `n,a=x=3Dy=2Cz,n=a=2Cb=3Dc,r=${SHA256.nonce}`);
  });

  test('the user name is SASLprep-ed', async () => {
    const client = createSaslClient(
      'SCRAM-SHA-256',
      { user: 'I\u00ADX', pass: 'pencil' },
      { nonce: () => 'abc' },
    );
    assert.equal(text(await client.initialResponse()), 'n,,n=IX,r=abc');
  });

  test('a password SASLprep refuses is EAUTH_PROTOCOL at creation, without the password in the message', () => {
    assert.throws(
      () => createSaslClient('SCRAM-SHA-256', { user: 'user', pass: 'hunter2\u0007' }),
      (err: unknown) =>
        authError('EAUTH_PROTOCOL')(err) && !String((err as Error).message).includes('hunter2'),
    );
  });

  test('a user name that prepares to nothing is refused', () => {
    assert.throws(
      () => createSaslClient('SCRAM-SHA-1', { user: '\u00AD', pass: 'p' }),
      authError('EAUTH_PROTOCOL'),
    );
  });

  test('an injected nonce with a comma is refused', async () => {
    const client = createSaslClient('SCRAM-SHA-256', { user: 'u', pass: 'p' }, { nonce: () => 'a,b' });
    await assert.rejects(client.initialResponse(), authError('EAUTH_PROTOCOL'));
  });

  test('inspect and JSON show the mechanism, never the password', async () => {
    const client = rfc7677Client();
    await upToClientFinal(client);
    assert.doesNotMatch(inspect(client, { showHidden: true, depth: 10 }), /pencil/);
    assert.doesNotMatch(JSON.stringify(client), /pencil/);
    assert.match(inspect(client), /SCRAM-SHA-256/);
  });
});
