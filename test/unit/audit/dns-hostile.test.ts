// Hostile DNS replies: each must end in a ProtocolError (EPROTOCOL), promptly — never a loop, an overrun
// of the buffer, a RangeError from Buffer, or a record that claims more than the message holds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/core/errors.js';
import { decodeMessage, encodeQuery } from '../../../src/net/dns-message.js';
import { message, name, question, rr } from './dns-wire.js';

function rejects(buf: Buffer, why: RegExp): void {
  assert.throws(
    () => decodeMessage(buf),
    (err: unknown) => err instanceof ProtocolError && err.code === 'EPROTOCOL' && why.test(err.message),
  );
}

const Q = question('example.test', 1);
// The first answer starts right after the header (12) and the question.
const ANSWER_AT = 12 + Q.length;
const ptr = (offset: number) => Buffer.from([0xc0 | (offset >> 8), offset & 0xff]);

describe('hostile DNS replies', () => {
  test('a compression pointer to itself', () => {
    rejects(
      message({ question: Q, answers: [rr(ptr(ANSWER_AT), 1, Buffer.alloc(4))] }),
      /does not point backwards/,
    );
  });

  test('two pointers pointing at each other', () => {
    // At ANSWER_AT: label "a", then a pointer forwards to ANSWER_AT+4, where a pointer leads back.
    const owner = Buffer.concat([Buffer.from('\x01a', 'latin1'), ptr(ANSWER_AT + 4), ptr(ANSWER_AT)]);
    rejects(message({ question: Q, answers: [rr(owner, 1, Buffer.alloc(4))] }), /does not point backwards/);
  });

  test('a pointer loop reached through a backwards pointer', () => {
    // The answer points back at a second question whose name points forward into the answer.
    const q2 = Buffer.concat([ptr(ANSWER_AT + 4 + 2), Buffer.from([0, 1, 0, 1])]);
    const answer = rr(ptr(12 + Q.length), 1, Buffer.alloc(4));
    rejects(message({ question: [Q, q2], answers: [answer] }), /does not point backwards/);
  });

  test('a pointer past the end of the message', () => {
    rejects(
      message({ question: Q, answers: [rr(ptr(0x3fff), 1, Buffer.alloc(4))] }),
      /backwards|past the end/,
    );
  });

  test('a chain of backwards pointers that builds a name over 255 octets', () => {
    // A dummy record (root owner, type 99) carries five pieces in its RDATA, each a 63-octet label and a
    // pointer back to the piece before it; the answer's owner points at the last piece: 5 × 64 > 255 octets.
    const rdataAt = ANSWER_AT + 11;
    const pieces: Buffer[] = [];
    let previous = -1;
    let offset = rdataAt;
    for (let i = 0; i < 5; i++) {
      const end = previous < 0 ? Buffer.from([0]) : ptr(previous);
      const piece = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61 + i), end]);
      pieces.push(piece);
      previous = offset;
      offset += piece.length;
    }
    const carrier = rr(Buffer.from([0]), 99, Buffer.concat(pieces));
    const answer = rr(ptr(previous), 1, Buffer.alloc(4));
    rejects(message({ question: Q, answers: [carrier, answer] }), /longer than 255 octets/);
  });

  test('a name of four 63-octet labels (over 255 octets) without any pointer', () => {
    const long = Buffer.concat(
      [...'abcd'].map((c) => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, c)])),
    );
    rejects(
      message({ question: Q, answers: [rr(Buffer.concat([long, Buffer.from([0])]), 1, Buffer.alloc(4))] }),
      /255/,
    );
  });

  test('reserved label types 0x40 and 0x80', () => {
    for (const first of [0x40, 0x80]) {
      const owner = Buffer.from([first, 0x61, 0x62, 0]);
      rejects(message({ question: Q, answers: [rr(owner, 1, Buffer.alloc(4))] }), /reserved label type/);
    }
  });

  test('RDLENGTH larger than what is left of the message', () => {
    rejects(message({ question: Q, answers: [rr(ptr(12), 1, Buffer.alloc(4), { rdlength: 200 })] }), /RDATA/);
  });

  test('header counts larger than the message can hold', () => {
    rejects(
      message({ question: Q, answers: [rr(ptr(12), 1, Buffer.alloc(4))], counts: [1, 65535, 0, 0] }),
      /counts/,
    );
    rejects(message({ question: Q, counts: [65535, 0, 0, 0] }), /counts/);
  });

  test('counts that fit the size but records that run out', () => {
    // Two answers announced, one present, plus padding so the size check alone cannot tell.
    const one = rr(ptr(12), 1, Buffer.from([1, 2, 3, 4]));
    rejects(
      Buffer.concat([message({ question: Q, answers: [one], counts: [1, 2, 0, 0] }), Buffer.alloc(3)]),
      /past the end/,
    );
  });

  test('a TXT character-string longer than its RDATA', () => {
    rejects(message({ question: Q, answers: [rr(ptr(12), 16, Buffer.from('\x40abcd', 'latin1'))] }), /TXT/);
  });

  test('an MX exchange name that runs past its RDLENGTH', () => {
    // RDLENGTH 4 covers the preference and "\x04ma", but the name goes on.
    const rdata = Buffer.from('\x00\x0a\x04mail\xc0\x0c', 'latin1');
    rejects(
      message({ question: Q, answers: [rr(ptr(12), 15, rdata, { rdlength: 4 })] }),
      /past its RDLENGTH/,
    );
  });

  test('A and AAAA records of the wrong length, TLSA and MX too short', () => {
    rejects(message({ question: Q, answers: [rr(ptr(12), 1, Buffer.alloc(5))] }), /A record of 5 octets/);
    rejects(message({ question: Q, answers: [rr(ptr(12), 28, Buffer.alloc(4))] }), /AAAA record of 4 octets/);
    rejects(message({ question: Q, answers: [rr(ptr(12), 52, Buffer.alloc(2))] }), /TLSA record of 2 octets/);
    rejects(message({ question: Q, answers: [rr(ptr(12), 15, Buffer.alloc(2))] }), /MX record of 2 octets/);
  });

  test('two OPT records, or an OPT in the answer section', () => {
    const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    rejects(message({ question: Q, additional: [opt, opt] }), /more than one OPT/);
    rejects(message({ question: Q, answers: [opt] }), /OPT record in the answer/);
  });

  test('messages shorter than a header, or longer than 65535 octets', () => {
    rejects(Buffer.from([0, 1, 0x84]), /shorter than a DNS header/);
    rejects(Buffer.concat([message({ question: Q }), Buffer.alloc(65_536)]), /longer/);
  });

  test('random corruption of a valid reply never throws anything but EPROTOCOL, and never hangs', () => {
    const valid = message({
      question: Q,
      answers: [
        rr(ptr(12), 15, Buffer.concat([Buffer.from([0, 10]), Buffer.from('\x02mx\xc0\x0c', 'latin1')])),
        rr(ptr(12), 16, Buffer.from('\x0bv=STSv1; id\x03=42', 'latin1')),
        rr(name('_25._tcp.mx.example.test'), 52, Buffer.from('030101', 'hex')),
      ],
    });
    assert.doesNotThrow(() => decodeMessage(valid));
    // Every loop in the decoder is bounded by the message length; a hang would show as a test timeout, and
    // 3000 runs taking whole seconds would show the same kind of bug.
    const started = performance.now();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(valid.length),
        (edits, cut) => {
          const buf = Buffer.from(valid.subarray(0, Math.max(cut, 12)));
          for (const [at, value] of edits) if (at < buf.length) buf[at] = value;
          try {
            decodeMessage(buf);
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
          }
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(performance.now() - started < 3000, `${performance.now() - started} ms for 3000 runs`);
  });

  test('random bytes never throw anything but EPROTOCOL', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        try {
          decodeMessage(Buffer.from(bytes));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('a query is not mistaken for anything else: it decodes as a non-response', () => {
    assert.equal(decodeMessage(encodeQuery(1, 'example.test', 'A')).response, false);
  });
});
