// The server-side command grammar: every verb, MAIL/RCPT parameters, and the problems that map to 500/501/502/555.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Command, decodeSaslLine, parseCommand } from '../../../src/protocol/index.js';

function command(line: string): Command {
  const parsed = parseCommand(line);
  assert.ok(parsed.ok, `${JSON.stringify(line)} should parse: ${parsed.ok ? '' : parsed.problem.message}`);
  return parsed.command;
}

function problem(line: string): string {
  const parsed = parseCommand(line);
  assert.ok(!parsed.ok, `${JSON.stringify(line)} should not parse`);
  return parsed.problem.kind;
}

describe('parseCommand', () => {
  test('verbs are case-insensitive; EHLO/HELO need a name', () => {
    assert.deepEqual(command('ehlo client.example'), { verb: 'EHLO', domain: 'client.example' });
    assert.deepEqual(command('HELO [192.0.2.1]'), { verb: 'HELO', domain: '[192.0.2.1]' });
    assert.deepEqual(command('EHLO host_with_underscore'), { verb: 'EHLO', domain: 'host_with_underscore' });
    assert.equal(problem('EHLO'), 'syntax');
    assert.equal(problem('EHLO a b'), 'syntax');
  });

  test('commands without arguments refuse them; NOOP ignores its argument', () => {
    for (const verb of ['DATA', 'RSET', 'QUIT', 'STARTTLS'] as const) {
      assert.deepEqual(command(verb.toLowerCase()), { verb });
      assert.equal(problem(`${verb} x`), 'syntax');
    }
    assert.deepEqual(command('NOOP anything at all'), { verb: 'NOOP' });
    assert.deepEqual(command('VRFY postmaster'), { verb: 'VRFY', argument: 'postmaster' });
    assert.equal(problem('VRFY'), 'syntax');
    assert.deepEqual(command('HELP'), { verb: 'HELP', topic: undefined });
  });

  test('MAIL FROM with every parameter', () => {
    assert.deepEqual(
      command(
        'MAIL FROM:<a@example.com> SIZE=1000 BODY=8bitmime SMTPUTF8 REQUIRETLS RET=HDRS ENVID=QQ+2B1 AUTH=bob+40example.com',
      ),
      {
        verb: 'MAIL',
        from: 'a@example.com',
        params: {
          size: 1000,
          body: '8BITMIME',
          smtpUtf8: true,
          requireTls: true,
          ret: 'HDRS',
          envid: 'QQ+1',
          auth: 'bob@example.com',
        },
      },
    );
    assert.deepEqual(command('MAIL FROM:<>'), { verb: 'MAIL', from: '', params: {} });
    assert.deepEqual(command('mail from: <a@b.example>'), { verb: 'MAIL', from: 'a@b.example', params: {} });
    assert.deepEqual(command('MAIL FROM:<a@b.example> AUTH=<>'), {
      verb: 'MAIL',
      from: 'a@b.example',
      params: { auth: '<>' },
    });
    // A source route is accepted and dropped (RFC 5321 §4.1.1.3).
    assert.equal((command('MAIL FROM:<@relay.example:a@b.example>') as { from: string }).from, 'a@b.example');
    // A quoted local part may hold ">".
    assert.equal((command('MAIL FROM:<"a>b"@example.com>') as { from: string }).from, '"a>b"@example.com');
    const huge = command('MAIL FROM:<a@b.example> SIZE=99999999999999999999') as {
      params: { size?: number };
    };
    assert.equal(huge.params.size, Number.POSITIVE_INFINITY);
  });

  test('MAIL problems: syntax (501) versus unknown parameters (555)', () => {
    assert.equal(problem('MAIL FROM:a@b.example'), 'syntax');
    assert.equal(problem('MAIL TO:<a@b.example>'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example>SIZE=1'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> SIZE=x'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> SIZE=1 SIZE=2'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> SMTPUTF8=yes'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> RET=ALL'), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> ENVID=a+zz'), 'syntax');
    assert.equal(problem(`MAIL FROM:<a@b.example> ENVID=${'x'.repeat(101)}`), 'syntax');
    assert.equal(problem('MAIL FROM:<a@b.example> BODY=9BIT'), 'parameter');
    assert.equal(problem('MAIL FROM:<a@b.example> XFOO=1'), 'parameter');
  });

  test('RCPT TO with DSN parameters', () => {
    assert.deepEqual(command('RCPT TO:<b@example.org> NOTIFY=failure,DELAY ORCPT=rfc822;b+2Bx@example.org'), {
      verb: 'RCPT',
      to: 'b@example.org',
      params: { notify: ['FAILURE', 'DELAY'], orcpt: { type: 'rfc822', address: 'b+x@example.org' } },
    });
    assert.deepEqual(command('RCPT TO:<Postmaster> NOTIFY=NEVER'), {
      verb: 'RCPT',
      to: 'Postmaster',
      params: { notify: 'NEVER' },
    });
    assert.equal(problem('RCPT TO:<>'), 'syntax');
    assert.equal(problem('RCPT TO:<b@example.org> NOTIFY=NEVER,FAILURE'), 'syntax');
    assert.equal(problem('RCPT TO:<b@example.org> ORCPT=nosemicolon'), 'syntax');
    assert.equal(problem('RCPT TO:<b@example.org> SIZE=1'), 'parameter');
  });

  test('BDAT and AUTH', () => {
    assert.deepEqual(command('BDAT 1000'), { verb: 'BDAT', size: 1000, last: false });
    assert.deepEqual(command('bdat 0 last'), { verb: 'BDAT', size: 0, last: true });
    assert.equal(problem('BDAT'), 'syntax');
    assert.equal(problem('BDAT -1'), 'syntax');
    assert.equal(problem('BDAT 1 FIRST'), 'syntax');
    assert.deepEqual(command('AUTH plain AGEAYg=='), {
      verb: 'AUTH',
      mechanism: 'PLAIN',
      initialResponse: 'AGEAYg==',
    });
    assert.deepEqual(command('AUTH LOGIN'), { verb: 'AUTH', mechanism: 'LOGIN', initialResponse: undefined });
    assert.deepEqual(command('AUTH PLAIN ='), { verb: 'AUTH', mechanism: 'PLAIN', initialResponse: '=' });
    assert.equal(problem('AUTH PLAIN not-base64!'), 'syntax');
    assert.equal(problem('AUTH'), 'syntax');
  });

  test('unknown, unimplemented and forbidden (HTTP) verbs', () => {
    assert.equal(problem('FOO'), 'unknown');
    assert.equal(problem(''), 'unknown');
    assert.equal(problem('EXPN staff'), 'unimplemented');
    assert.equal(problem('GET / HTTP/1.1'), 'forbidden');
    assert.equal(problem('POST /submit HTTP/1.0'), 'forbidden');
    assert.equal(problem('CONNECT mail.example:25 HTTP/1.1'), 'forbidden');
  });

  test('decodeSaslLine', () => {
    assert.deepEqual(decodeSaslLine('='), Buffer.alloc(0));
    assert.deepEqual(decodeSaslLine('YQ=='), Buffer.from('a'));
    assert.equal(decodeSaslLine('%%'), undefined);
  });

  test('never throws, whatever the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (line) => {
        const parsed = parseCommand(line);
        if (!parsed.ok) assert.ok(parsed.problem.message.length > 0);
      }),
      { numRuns: 3000 },
    );
  });

  test('mutated valid commands never throw either', () => {
    const valid = [
      'MAIL FROM:<a@example.com> SIZE=10 BODY=8BITMIME',
      'RCPT TO:<b@example.org> NOTIFY=SUCCESS ORCPT=rfc822;b@example.org',
      'BDAT 10 LAST',
      'AUTH PLAIN AGEAYg==',
      'EHLO x',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(80), fc.string({ maxLength: 3, unit: 'binary' })), { maxLength: 4 }),
        (line, edits) => {
          let text = line;
          for (const [at, insert] of edits)
            text = text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + 1);
          parseCommand(text);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
