// The SMTP audit's reading of replies: EHLO keywords, SIZE, AUTH-before-TLS, VRFY/EXPN, smuggling verdicts
// and the payload and relay forms it sends. Pure functions, no sockets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  authAttemptProcessed,
  classifySmuggling,
  ehloKeywords,
  escapeEnding,
  FAKE_PLAIN_RESPONSE,
  lookupEnabled,
  relayAttempts,
  SMUGGLING_ENDINGS,
  sizeOf,
  smugglingPayload,
  vrfyEnumerates,
} from '../../../src/audit/smtp/index.js';
import { makeReply, type Reply } from '../../../src/protocol/index.js';

const r = (code: number, ...lines: string[]): Reply => makeReply(code, lines.length ? lines : ['x']);

describe('EHLO keywords', () => {
  test('upper-cases the keyword, keeps parameters as sent, skips the greeting line', () => {
    const reply = r(
      250,
      'mx.example.org Hello',
      'pipelining',
      'SIZE 10240000',
      'auth=LOGIN plain',
      'STARTTLS',
    );
    assert.deepEqual(ehloKeywords(reply), ['PIPELINING', 'SIZE 10240000', 'AUTH=LOGIN plain', 'STARTTLS']);
  });
  test('escapes control characters from the peer and drops empty lines', () => {
    assert.deepEqual(ehloKeywords(r(250, 'mx', '', 'X-EVIL \x1b[2J')), ['X-EVIL \\x1b[2J']);
  });
  test('SIZE: the number, 0 for a bare SIZE, null when absent or not a number', () => {
    assert.equal(sizeOf(['PIPELINING', 'SIZE 35882577']), 35882577);
    assert.equal(sizeOf(['SIZE']), 0);
    assert.equal(sizeOf(['SIZE 0']), 0);
    assert.equal(sizeOf(['SIZE lots']), null);
    assert.equal(sizeOf(['SIZEX 12', 'PIPELINING']), null);
  });
});

describe('AUTH before TLS', () => {
  test('the fake credential is PLAIN for user postern-audit, password invalid', () => {
    assert.equal(Buffer.from(FAKE_PLAIN_RESPONSE, 'base64').toString('latin1'), '\0postern-audit\0invalid');
  });
  test('334, 235 and 535 mean the server went on with it', () => {
    for (const code of [334, 235, 535]) assert.equal(authAttemptProcessed(r(code)), true, String(code));
  });
  test('530, 538, 503, 504, 534, 500 refuse it; a 4xx gives no verdict', () => {
    for (const code of [530, 538, 503, 504, 534, 500, 502])
      assert.equal(authAttemptProcessed(r(code)), false);
    for (const code of [421, 454, 451]) assert.equal(authAttemptProcessed(r(code)), null);
  });
});

describe('VRFY and EXPN', () => {
  test('250/251 enabled, 252 and 5xx not, 4xx unknown', () => {
    assert.equal(lookupEnabled(r(250, 'Postmaster <postmaster@example.org>')), true);
    assert.equal(lookupEnabled(r(251)), true);
    assert.equal(lookupEnabled(r(252, 'Cannot VRFY user')), false);
    assert.equal(lookupEnabled(r(502, 'VRFY command is disabled')), false);
    assert.equal(lookupEnabled(r(550)), false);
    assert.equal(lookupEnabled(r(450)), null);
  });
  test('a 252 still enumerates users when an unknown name gets "no such user"', () => {
    assert.equal(vrfyEnumerates(r(252, 'postmaster'), r(550, '5.1.1 User unknown')), true);
    assert.equal(vrfyEnumerates(r(252), r(252)), false);
    assert.equal(vrfyEnumerates(r(502), r(550)), false);
  });
});

describe('smuggling', () => {
  test('the eight endings of the issue, shown escaped', () => {
    assert.deepEqual(SMUGGLING_ENDINGS.map(escapeEnding), [
      '\\n.\\n',
      '\\n.\\r',
      '\\r.\\n',
      '\\r.\\r',
      '\\n.\\r\\n',
      '\\r.\\r\\n',
      '\\r\\n\\x00.\\r\\n',
      '\\r\\n.\\r\\r\\n',
    ]);
  });

  test('payload: message, the ending, a whole second transaction, then the one proper CRLF.CRLF', () => {
    for (const ending of SMUGGLING_ENDINGS) {
      const p = smugglingPayload(ending, 'a@example.org', 'b@example.net');
      const at = p.indexOf(ending);
      assert.ok(at > 0);
      assert.ok(
        p
          .slice(at + ending.length)
          .startsWith('MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n'),
      );
      assert.ok(p.endsWith('\r\n.\r\n'));
      // Exactly one proper end of data, at the very end; no other line is a lone dot.
      assert.equal(p.indexOf('\r\n.\r\n'), p.length - 5);
      // Only the ending and the final terminator hold a lone dot: no text line needs dot-stuffing.
      const dotted = p.split(/\r\n|\r|\n/).filter((line) => line.startsWith('.'));
      assert.ok(
        dotted.every((line) => line === '.'),
        JSON.stringify(dotted),
      );
    }
  });

  test('verdicts from the replies after the data', () => {
    assert.equal(classifySmuggling([r(250, 'queued')], false).outcome, 'not-end-of-data');
    assert.equal(classifySmuggling([r(550, '5.5.2 bare LF')], false).outcome, 'rejected');
    assert.equal(classifySmuggling([r(521, 'bye')], true).outcome, 'rejected');
    assert.equal(classifySmuggling([], true).outcome, 'rejected');
    assert.equal(classifySmuggling([], false).outcome, 'error');
    const ran = classifySmuggling([r(250), r(250), r(250), r(354), r(250)], false);
    assert.equal(ran.outcome, 'accepted');
    assert.match(ran.why, /smuggled transaction was accepted/);
    const refused = classifySmuggling([r(250), r(503), r(503), r(500)], false);
    assert.equal(refused.outcome, 'accepted');
    assert.match(refused.why, /refused/);
  });

  test('more than one reply means the ending ended DATA, whatever the first reply said', () => {
    // The truncated first message refused, the smuggled transaction run: still smuggling.
    const ran = classifySmuggling([r(554, 'no'), r(250), r(250), r(354), r(250)], false);
    assert.equal(ran.outcome, 'accepted');
    assert.match(ran.why, /truncated message was refused.*smuggled transaction was accepted/);
    assert.equal(classifySmuggling([r(451), r(250), r(250), r(354), r(250)], false).outcome, 'accepted');
    assert.equal(classifySmuggling([r(550), r(503)], true).outcome, 'accepted');
    // One refusal alone is still a refusal.
    assert.equal(classifySmuggling([r(554)], false).outcome, 'rejected');
    assert.equal(classifySmuggling([r(451)], true).outcome, 'rejected');
  });
});

describe('relay attempts', () => {
  test('the usual forms, with empty and non-empty MAIL FROM; never the same pair twice', () => {
    const list = relayAttempts('me@example.net', 'mx.example.org', 'example.net');
    const tos = list.map((a) => a.to);
    for (const to of [
      'postern-relay-test@example.net',
      '"postern-relay-test@example.net"@mx.example.org',
      'postern-relay-test%example.net@mx.example.org',
      'example.net!postern-relay-test',
      '@mx.example.org:postern-relay-test@example.net',
    ]) {
      assert.ok(tos.includes(to), to);
    }
    assert.ok(list.some((a) => a.from === ''));
    assert.ok(list.some((a) => a.from === 'me@example.net'));
    assert.equal(new Set(list.map((a) => `${a.from} ${a.to}`)).size, list.length);
  });
});
