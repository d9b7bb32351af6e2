// Whatever bytes a client sends, a server half answers with a step: never a rejection, never a success it did not
// earn, and never 'temporary' (which would mean a bug, since the store here does not fail).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  createSaslClient,
  createSaslServer,
  SASL_SERVER_MECHANISMS,
  type SaslServerStep,
} from '../../../src/sasl/index.js';
import { memoryStore, SECRET_FOR_FAKE_SALTS } from './server-harness.js';

const context = {
  secretForFakeSalts: SECRET_FOR_FAKE_SALTS,
  channelBinding: { 'tls-exporter': randomBytes(32), 'tls-server-end-point': randomBytes(32) },
};
const store = memoryStore({ user: { password: 'pencil', token: 'token' } });

function checkStep(step: SaslServerStep): void {
  assert.ok(step.type === 'challenge' || step.type === 'failure', `unexpected ${step.type}`);
  if (step.type === 'failure') assert.notEqual(step.reason, 'temporary');
}

/** Bytes that are often close to a real message: SCRAM-ish, GS2-ish, NUL- and ^A-separated. */
const message = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
  fc
    .array(
      fc.constantFrom(
        'n',
        'y',
        'p=tls-exporter',
        ',',
        '=',
        'n=user',
        'r=',
        'c=biws',
        'p=',
        'a=',
        '\0',
        '\x01',
        'auth=Bearer ',
        'user=',
        'user',
        'pencil',
        ' ',
        '=2C',
        '=3D',
        'm=x',
        'i=4096',
        's=QSXCR',
        '\u00AD',
        '\uFFFF',
      ),
    )
    .map((parts) => Buffer.from(parts.join(''), 'utf8')),
);

test('random responses to every mechanism end in a challenge or failure, never a throw', async () => {
  const credentials = await store;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...SASL_SERVER_MECHANISMS),
      fc.option(message, { nil: undefined }),
      fc.array(message, { maxLength: 4 }),
      async (mechanism, initial, responses) => {
        const server = createSaslServer(mechanism, credentials, context);
        checkStep(await server.start(initial));
        for (const response of responses) checkStep(await server.next(response));
      },
    ),
    { numRuns: 400 },
  );
});

test('mutating one byte of a valid SCRAM client-final never authenticates', async () => {
  const credentials = await store;
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (position, flip) => {
      const client = createSaslClient(
        'SCRAM-SHA-256-PLUS',
        { user: 'user', pass: 'pencil' },
        {
          channelBinding: { type: 'tls-exporter', data: context.channelBinding['tls-exporter'] },
        },
      );
      const server = createSaslServer('SCRAM-SHA-256-PLUS', credentials, context);
      const first = await server.start(await client.initialResponse());
      assert.equal(first.type, 'challenge');
      const final = await client.respond(first.type === 'challenge' ? first.data : Buffer.alloc(0));
      const index = position % final.length;
      final[index] = final[index]! ^ flip;
      const step = await server.next(final);
      assert.equal(step.type, 'failure');
    }),
    { numRuns: 150 },
  );
});

test('a proof in non-canonical base64 (unused bits before "=" set) is refused, not decoded to the same bytes', async () => {
  const credentials = await store;
  const client = createSaslClient(
    'SCRAM-SHA-256-PLUS',
    { user: 'user', pass: 'pencil' },
    { channelBinding: { type: 'tls-exporter', data: context.channelBinding['tls-exporter'] } },
  );
  const server = createSaslServer('SCRAM-SHA-256-PLUS', credentials, context);
  const first = await server.start(await client.initialResponse());
  assert.equal(first.type, 'challenge');
  const final = await client.respond(first.type === 'challenge' ? first.data : Buffer.alloc(0));
  // A 32-byte proof is 43 base64 characters and "="; the last character carries 2 unused bits.
  const text = final.toString('latin1');
  assert.match(text, /,p=[A-Za-z0-9+/]{43}=$/);
  const last = text.length - 2;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = alphabet.indexOf(text[last]!);
  const sibling = alphabet[value ^ 1]!; // same 4 data bits, one unused bit flipped
  const mutated = Buffer.from(text.slice(0, last) + sibling + text.slice(last + 1), 'latin1');
  assert.deepEqual(
    Buffer.from(mutated.toString('latin1').split(',p=')[1]!, 'base64'),
    Buffer.from(text.split(',p=')[1]!, 'base64'),
    'both spellings decode to the same proof',
  );
  const step = await server.next(mutated);
  assert.equal(step.type, 'failure');
});
