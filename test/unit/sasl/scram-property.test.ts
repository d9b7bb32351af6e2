// The SCRAM client against a reference SCRAM server written here from the RFC 5802 §3 formulas alone
// (its own Hi loop, its own parsing), so the two halves do not share a mistake.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { AuthError } from '../../../src/core/errors.js';
import { createSaslClient } from '../../../src/sasl/index.js';
import type { ChannelBinding } from '../../../src/sasl/types.js';

type Algorithm = 'sha1' | 'sha256';

function hmac(algorithm: Algorithm, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

/** Hi(str, salt, i): U1 = HMAC(str, salt + INT(1)), Ui = HMAC(str, Ui-1), result U1 XOR ... XOR Ui. */
function hi(algorithm: Algorithm, password: string, salt: Buffer, iterations: number): Buffer {
  const key = Buffer.from(password, 'utf8');
  let u = hmac(algorithm, key, Buffer.concat([salt, Buffer.from([0, 0, 0, 1])]));
  const result = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = hmac(algorithm, key, u);
    for (let j = 0; j < result.length; j++) result[j]! ^= u[j]!;
  }
  return result;
}

function attribute(message: string, name: string): string {
  const found = message.split(',').find((part) => part.startsWith(`${name}=`));
  assert.ok(found !== undefined, `server: ${name}= missing in ${message}`);
  return found.slice(2);
}

/** One server-side exchange; throws if the client's messages are wrong. */
class ReferenceScramServer {
  readonly #algorithm: Algorithm;
  readonly #user: string;
  readonly #password: string;
  readonly #binding: ChannelBinding | undefined;
  readonly #salt = randomBytes(16);
  readonly #iterations = 4096;
  #clientFirstBare = '';
  #gs2Header = '';
  #serverFirst = '';
  #nonce = '';

  constructor(algorithm: Algorithm, user: string, password: string, binding: ChannelBinding | undefined) {
    this.#algorithm = algorithm;
    this.#user = user;
    this.#password = password;
    this.#binding = binding;
  }

  first(clientFirst: string): string {
    const secondComma = clientFirst.indexOf(',', clientFirst.indexOf(',') + 1);
    this.#gs2Header = clientFirst.slice(0, secondComma + 1);
    this.#clientFirstBare = clientFirst.slice(secondComma + 1);
    const expectedFlag = this.#binding ? `p=${this.#binding.type}` : 'n';
    assert.equal(this.#gs2Header, `${expectedFlag},,`);
    const user = attribute(this.#clientFirstBare, 'n').replaceAll('=2C', ',').replaceAll('=3D', '=');
    assert.equal(user, this.#user);
    this.#nonce = attribute(this.#clientFirstBare, 'r') + randomBytes(18).toString('base64');
    this.#serverFirst = `r=${this.#nonce},s=${this.#salt.toString('base64')},i=${this.#iterations}`;
    return this.#serverFirst;
  }

  /** Returns the server signature after checking the client's proof and channel binding. */
  final(clientFinal: string): Buffer {
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const cbind = Buffer.concat([Buffer.from(this.#gs2Header), this.#binding?.data ?? Buffer.alloc(0)]);
    assert.equal(attribute(clientFinal, 'c'), cbind.toString('base64'));
    assert.equal(attribute(clientFinal, 'r'), this.#nonce);
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const salted = hi(this.#algorithm, this.#password, this.#salt, this.#iterations);
    const clientKey = hmac(this.#algorithm, salted, 'Client Key');
    const storedKey = createHash(this.#algorithm).update(clientKey).digest();
    const clientSignature = hmac(this.#algorithm, storedKey, authMessage);
    const proof = Buffer.from(attribute(clientFinal, 'p'), 'base64');
    const recoveredKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
    assert.deepEqual(
      createHash(this.#algorithm).update(recoveredKey).digest(),
      storedKey,
      'server: bad proof',
    );
    return hmac(this.#algorithm, hmac(this.#algorithm, salted, 'Server Key'), authMessage);
  }
}

// Characters SASLprep leaves alone, so the reference server can use the raw strings; "," and "=" test escaping.
const CHARS = [
  ...Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)),
  'é',
  'ß',
  'ж',
  'Ω',
  '中',
  'ñ',
];
const identity = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: 24 });

test('the SCRAM client authenticates against a reference server, and any flipped signature byte fails', async () => {
  await fc.assert(
    fc.asyncProperty(
      identity,
      identity,
      fc.constantFrom('SCRAM-SHA-1', 'SCRAM-SHA-256'),
      fc.option(
        fc.record({
          type: fc.constantFrom('tls-exporter' as const, 'tls-server-end-point' as const),
          data: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((array) => Buffer.from(array)),
        }),
        { nil: undefined },
      ),
      fc.option(fc.record({ index: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { nil: undefined }),
      async (user, pass, family, binding, flip) => {
        const algorithm: Algorithm = family === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
        const mechanism = binding ? `${family}-PLUS` : family;
        const client = createSaslClient(mechanism, { user, pass }, { channelBinding: binding });
        const server = new ReferenceScramServer(algorithm, user, pass, binding);

        const serverFirst = server.first((await client.initialResponse())!.toString('utf8'));
        const signature = server.final((await client.respond(Buffer.from(serverFirst))).toString('utf8'));
        if (flip) signature[flip.index % signature.length]! ^= flip.mask;
        const serverFinal = Buffer.from(`v=${signature.toString('base64')}`);

        if (flip) {
          await assert.rejects(
            client.respond(serverFinal),
            (err: unknown) => err instanceof AuthError && err.code === 'EAUTH_SERVER_SIGNATURE',
          );
          assert.throws(() => client.finish(), AuthError);
        } else {
          assert.equal((await client.respond(serverFinal)).length, 0);
          client.finish();
        }
      },
    ),
    { numRuns: 60 },
  );
});
