import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { InputError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import {
  auth,
  bdat,
  COMMAND_LINE_LIMIT,
  data,
  ehlo,
  helo,
  initialResponseFits,
  mailFrom,
  noop,
  quit,
  rcptTo,
  rset,
  saslCancel,
  saslResponse,
  starttls,
  vrfy,
} from '../../../src/protocol/commands.js';

function rejects(fn: () => unknown, code: string, pattern?: RegExp): InputError {
  let caught: InputError | undefined;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    caught = e;
    return true;
  });
  return caught!;
}

describe('simple commands', () => {
  test('fixed lines end in CRLF', () => {
    assert.equal(data(), 'DATA\r\n');
    assert.equal(rset(), 'RSET\r\n');
    assert.equal(noop(), 'NOOP\r\n');
    assert.equal(quit(), 'QUIT\r\n');
    assert.equal(starttls(), 'STARTTLS\r\n');
    assert.equal(saslCancel(), '*\r\n');
  });

  test('BDAT (RFC 3030)', () => {
    assert.equal(bdat(4096, false), 'BDAT 4096\r\n');
    assert.equal(bdat(0, true), 'BDAT 0 LAST\r\n');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      rejects(() => bdat(bad, false), 'EINVALID_ARGUMENT');
    }
    rejects(() => bdat('5' as unknown as number, false), 'EINVALID_ARGUMENT');
  });
});

describe('EHLO / HELO', () => {
  test('a domain, an IDN as A-labels, or an address literal', () => {
    assert.equal(ehlo('client.example.org'), 'EHLO client.example.org\r\n');
    assert.equal(ehlo('bücher.example'), 'EHLO xn--bcher-kva.example\r\n');
    assert.equal(ehlo('[192.0.2.1]'), 'EHLO [192.0.2.1]\r\n');
    assert.equal(ehlo('[IPv6:2001:db8::1]'), 'EHLO [IPv6:2001:db8::1]\r\n');
    assert.equal(helo('localhost'), 'HELO localhost\r\n');
  });

  test('anything else is refused', () => {
    for (const bad of ['', 'two words', 'under_score.example', '192.0.2.1]', '[300.0.0.1]', 'a..b']) {
      rejects(() => ehlo(bad), 'EINVALID_ARGUMENT', /EHLO/);
      rejects(() => helo(bad), 'EINVALID_ARGUMENT', /HELO/);
    }
  });
});

describe('MAIL FROM', () => {
  test('plain and null reverse-paths', () => {
    assert.equal(mailFrom('a@example.com'), 'MAIL FROM:<a@example.com>\r\n');
    assert.equal(mailFrom(''), 'MAIL FROM:<>\r\n');
  });

  test('every parameter, in a fixed order', () => {
    assert.equal(
      mailFrom('a@example.com', {
        size: 12345,
        body: '8BITMIME',
        smtpUtf8: true,
        requireTls: true,
        ret: 'HDRS',
        envid: 'QQ314159 x+y=z',
      }),
      'MAIL FROM:<a@example.com> SIZE=12345 BODY=8BITMIME SMTPUTF8 REQUIRETLS RET=HDRS ENVID=QQ314159+20x+2By+3Dz\r\n',
    );
    assert.equal(mailFrom('', { size: 0, body: 'BINARYMIME' }), 'MAIL FROM:<> SIZE=0 BODY=BINARYMIME\r\n');
    assert.equal(mailFrom('a@b', { smtpUtf8: false, requireTls: false }), 'MAIL FROM:<a@b>\r\n');
  });

  test('UTF-8 paths need SMTPUTF8, also when only the domain is UTF-8', () => {
    assert.equal(mailFrom('jörg@bücher.de', { smtpUtf8: true }), 'MAIL FROM:<jörg@bücher.de> SMTPUTF8\r\n');
    rejects(() => mailFrom('jörg@example.com'), 'ESMTPUTF8_REQUIRED');
    rejects(() => mailFrom('info@bücher.de'), 'ESMTPUTF8_REQUIRED', /toWireAddress/);
  });

  test('invalid addresses and parameters are refused', () => {
    rejects(() => mailFrom('not an address'), 'EADDRESS_INVALID');
    rejects(() => mailFrom('<a@example.com>'), 'EADDRESS_INVALID');
    rejects(() => mailFrom('a@example.com', { size: -1 }), 'EINVALID_ARGUMENT', /SIZE/);
    rejects(() => mailFrom('a@example.com', { size: 0.5 }), 'EINVALID_ARGUMENT', /SIZE/);
    rejects(() => mailFrom('a@example.com', { size: 2 ** 53 }), 'EINVALID_ARGUMENT', /SIZE/);
    rejects(() => mailFrom('a@example.com', { body: '8bit' as '7BIT' }), 'EINVALID_ARGUMENT', /BODY/);
    rejects(() => mailFrom('a@example.com', { ret: 'ALL' as 'FULL' }), 'EINVALID_ARGUMENT', /RET/);
    rejects(() => mailFrom('a@example.com', { envid: '' }), 'EINVALID_ARGUMENT', /ENVID/);
    rejects(() => mailFrom('a@example.com', { envid: 'ümlaut' }), 'EINVALID_ARGUMENT', /ENVID/);
    rejects(() => mailFrom('a@example.com', { envid: 'tab\there' }), 'EINVALID_ARGUMENT', /ENVID/);
    rejects(() => mailFrom('a@example.com', { envid: '+'.repeat(34) }), 'EINVALID_ARGUMENT', /100/);
    assert.ok(mailFrom('a@example.com', { envid: 'x'.repeat(100) }).includes(`ENVID=${'x'.repeat(100)}`));
  });

  test('every parameter at its longest still fits: each is bounded by its own RFC', () => {
    const longest = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(longest.length, 254);
    const line = mailFrom(longest, {
      size: Number.MAX_SAFE_INTEGER,
      body: 'BINARYMIME',
      smtpUtf8: true,
      requireTls: true,
      ret: 'FULL',
      envid: 'e'.repeat(100),
    });
    assert.match(line, /^MAIL FROM:<a{64}@.* ENVID=e{100}\r\n$/);
  });
});

describe('RCPT TO', () => {
  test('plain, Postmaster and DSN parameters', () => {
    assert.equal(rcptTo('b@example.net'), 'RCPT TO:<b@example.net>\r\n');
    assert.equal(rcptTo('Postmaster'), 'RCPT TO:<Postmaster>\r\n');
    assert.equal(
      rcptTo('b@example.net', { notify: ['SUCCESS', 'FAILURE', 'SUCCESS'], orcpt: 'b+x@example.net' }),
      'RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.net\r\n',
    );
    assert.equal(rcptTo('b@example.net', { notify: 'NEVER' }), 'RCPT TO:<b@example.net> NOTIFY=NEVER\r\n');
  });

  test('UTF-8 recipients need the transaction to use SMTPUTF8', () => {
    assert.equal(rcptTo('jörg@bücher.de', { smtpUtf8: true }), 'RCPT TO:<jörg@bücher.de>\r\n');
    rejects(() => rcptTo('jörg@bücher.de'), 'ESMTPUTF8_REQUIRED');
    rejects(() => rcptTo('x@bücher.de'), 'ESMTPUTF8_REQUIRED');
  });

  test('ORCPT of a UTF-8 address uses the utf-8 type (RFC 6533)', () => {
    assert.equal(
      rcptTo('x@xn--bcher-kva.de', { orcpt: 'jörg@bücher.de' }),
      'RCPT TO:<x@xn--bcher-kva.de> ORCPT=utf-8;j\\x{F6}rg@b\\x{FC}cher.de\r\n',
    );
    assert.equal(
      rcptTo('jörg@bücher.de', { orcpt: 'jörg@bücher.de', smtpUtf8: true }),
      'RCPT TO:<jörg@bücher.de> ORCPT=utf-8;jörg@bücher.de\r\n',
    );
  });

  test('NOTIFY and ORCPT may take the line past 512 octets (RFC 3461 §4 adds 500)', () => {
    const longest = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    const line = rcptTo(longest, {
      notify: ['SUCCESS', 'FAILURE', 'DELAY'],
      orcpt: `${'o'.repeat(200)}@example.com`,
    });
    assert.ok(Buffer.byteLength(line) > COMMAND_LINE_LIMIT);
    assert.ok(line.endsWith('@example.com\r\n'));
  });

  test('invalid recipients and parameters are refused', () => {
    rejects(() => rcptTo(''), 'EADDRESS_INVALID');
    rejects(() => rcptTo('nobody'), 'EADDRESS_INVALID');
    rejects(() => rcptTo('b@example.net', { notify: [] }), 'EINVALID_ARGUMENT', /NOTIFY/);
    rejects(() => rcptTo('b@example.net', { notify: ['NEVER' as 'DELAY'] }), 'EINVALID_ARGUMENT', /NOTIFY/);
    rejects(() => rcptTo('b@example.net', { notify: 'ALWAYS' as 'NEVER' }), 'EINVALID_ARGUMENT', /NOTIFY/);
    rejects(() => rcptTo('b@example.net', { orcpt: '' }), 'EINVALID_ARGUMENT', /ORCPT/);
    rejects(() => rcptTo('b@example.net', { orcpt: 'a\tb' }), 'EINVALID_ARGUMENT', /ORCPT/);
    rejects(() => rcptTo('b@example.net', { orcpt: '+'.repeat(200) }), 'EINVALID_ARGUMENT', /500/);
  });
});

describe('AUTH', () => {
  test('with and without an initial response (RFC 4954 §4)', () => {
    assert.equal(auth('PLAIN'), 'AUTH PLAIN\r\n');
    assert.equal(auth('plain', 'AGFsaWNlAHNlY3JldA=='), 'AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n');
    assert.equal(auth('EXTERNAL', ''), 'AUTH EXTERNAL =\r\n');
    assert.equal(auth('SCRAM-SHA-256-PLUS', 'biws'), 'AUTH SCRAM-SHA-256-PLUS biws\r\n');
    assert.equal(auth('XOAUTH2', new Secret('QUJD')), 'AUTH XOAUTH2 QUJD\r\n');
  });

  test('mechanism names follow RFC 4422', () => {
    for (const bad of ['', 'PLAIN LOGIN', 'A'.repeat(21), 'PL@IN'])
      rejects(() => auth(bad), 'EINVALID_ARGUMENT');
  });

  test('the initial response must be base64, and is never quoted in errors', () => {
    const error = rejects(() => auth('PLAIN', 'hunter2!'), 'EINVALID_ARGUMENT', /base64/);
    assert.doesNotMatch(error.message, /hunter2/);
    assert.doesNotMatch(inspect(error), /hunter2/);
    rejects(() => auth('PLAIN', '='), 'EINVALID_ARGUMENT');
    rejects(() => auth('PLAIN', 'QUJ'), 'EINVALID_ARGUMENT');
  });

  test('an initial response too long for one line must go after the 334 instead', () => {
    const long = Buffer.alloc(600, 1).toString('base64');
    assert.equal(initialResponseFits('XOAUTH2', long), false);
    assert.equal(initialResponseFits('PLAIN', 'QUJD'), true);
    const error = rejects(() => auth('XOAUTH2', long), 'EINVALID_ARGUMENT', /512/);
    assert.ok(!error.message.includes(long.slice(0, 20)));
    assert.equal(saslResponse(long), `${long}\r\n`);
  });

  test('SASL responses after a challenge', () => {
    assert.equal(saslResponse('dGVzdA=='), 'dGVzdA==\r\n');
    assert.equal(saslResponse(''), '\r\n');
    assert.equal(saslResponse(new Secret('dGVzdA==')), 'dGVzdA==\r\n');
    rejects(() => saslResponse('not base64'), 'EINVALID_ARGUMENT');
  });
});

describe('VRFY', () => {
  test('builds the line', () => {
    assert.equal(vrfy('Smith'), 'VRFY Smith\r\n');
    assert.equal(vrfy('jörg@example.com'), 'VRFY jörg@example.com\r\n');
  });

  test('refuses empty, control characters and over-long arguments', () => {
    rejects(() => vrfy(''), 'EINVALID_ARGUMENT');
    rejects(() => vrfy('  '), 'EINVALID_ARGUMENT');
    rejects(() => vrfy('a\tb'), 'EINVALID_ARGUMENT');
    rejects(() => vrfy('x'.repeat(506)), 'EINVALID_ARGUMENT', /513 octets; SMTP allows 512/);
    assert.equal(vrfy('x'.repeat(505)).length, 512);
  });
});

describe('command injection: CR, LF or NUL in any argument is refused before a line exists', () => {
  const bad = ['\r', '\n', '\0', '\r\n', 'x\r\nRSET', 'x\nMAIL FROM:<evil@example.com>'];
  const cases: [string, (value: string) => unknown][] = [
    ['EHLO name', (v) => ehlo(`client${v}.example`)],
    ['HELO name', (v) => helo(`client${v}`)],
    ['MAIL reverse-path', (v) => mailFrom(`a${v}@example.com`)],
    ['MAIL reverse-path (domain)', (v) => mailFrom(`a@example.com${v}`)],
    ['MAIL ENVID', (v) => mailFrom('a@example.com', { envid: `id${v}` })],
    ['MAIL BODY', (v) => mailFrom('a@example.com', { body: `8BITMIME${v}` as '8BITMIME' })],
    ['MAIL RET', (v) => mailFrom('a@example.com', { ret: `FULL${v}` as 'FULL' })],
    ['RCPT forward-path', (v) => rcptTo(`b${v}@example.net`)],
    ['RCPT ORCPT', (v) => rcptTo('b@example.net', { orcpt: `b${v}@example.net` })],
    ['RCPT NOTIFY', (v) => rcptTo('b@example.net', { notify: [`DELAY${v}` as 'DELAY'] })],
    ['AUTH mechanism', (v) => auth(`PLAIN${v}`)],
    ['AUTH initial response', (v) => auth('PLAIN', `QUJD${v}`)],
    ['AUTH initial response (Secret)', (v) => auth('PLAIN', new Secret(`QUJD${v}`))],
    ['SASL response', (v) => saslResponse(`QUJD${v}`)],
    ['VRFY argument', (v) => vrfy(`Smith${v}`)],
  ];
  for (const [name, build] of cases) {
    test(name, () => {
      for (const value of bad) {
        const error = rejects(() => build(value), 'ECOMMAND_INJECTION');
        assert.match(error.message, /CR, LF or NUL/);
      }
    });
  }

  test('the message names the argument and hides secrets', () => {
    assert.match(
      rejects(() => mailFrom('a@b', { envid: 'x\r\n' }), 'ECOMMAND_INJECTION').message,
      /ENVID "x\\r\\n"/,
    );
    const error = rejects(() => auth('PLAIN', 'c2VjcmV0\r\n'), 'ECOMMAND_INJECTION');
    assert.match(error.message, /initial response/);
    assert.doesNotMatch(error.message, /c2VjcmV0/);
    assert.equal(error.command, 'AUTH');
  });
});
