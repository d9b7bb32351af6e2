import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../../src/core/errors.js';
import { heloCapabilities, parseEhlo } from '../../../src/protocol/capabilities.js';
import { makeReply } from '../../../src/protocol/reply.js';

const ehlo = (...lines: string[]) => parseEhlo(makeReply(250, lines));

describe('parseEhlo', () => {
  test('a typical submission server', () => {
    const caps = ehlo(
      'smtp.example.com at your service, [192.0.2.7]',
      'SIZE 35882577',
      '8BITMIME',
      'AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH',
      'ENHANCEDSTATUSCODES',
      'PIPELINING',
      'CHUNKING',
      'SMTPUTF8',
    );
    assert.equal(caps.domain, 'smtp.example.com');
    assert.deepEqual(caps.greeting, ['at', 'your', 'service,', '[192.0.2.7]']);
    assert.equal(caps.size, true);
    assert.equal(caps.sizeLimit, 35882577);
    assert.deepEqual(caps.auth, ['LOGIN', 'PLAIN', 'XOAUTH2', 'PLAIN-CLIENTTOKEN', 'OAUTHBEARER', 'XOAUTH']);
    assert.equal(caps.eightBitMime, true);
    assert.equal(caps.enhancedStatusCodes, true);
    assert.equal(caps.pipelining, true);
    assert.equal(caps.chunking, true);
    assert.equal(caps.smtpUtf8, true);
    assert.equal(caps.starttls, false);
    assert.equal(caps.dsn, false);
    assert.equal(caps.binaryMime, false);
    assert.equal(caps.requireTls, false);
  });

  test('every flag', () => {
    const caps = ehlo(
      'mx',
      'STARTTLS',
      'DSN',
      'BINARYMIME',
      'CHUNKING',
      'REQUIRETLS',
      'SMTPUTF8',
      'PIPELINING',
    );
    assert.equal(caps.starttls, true);
    assert.equal(caps.dsn, true);
    assert.equal(caps.binaryMime, true);
    assert.equal(caps.requireTls, true);
    assert.equal(caps.greeting.length, 0);
  });

  test('BINARYMIME without CHUNKING cannot be used, so it is off', () => {
    const caps = ehlo('mx', 'BINARYMIME');
    assert.equal(caps.binaryMime, false);
    assert.equal(caps.has('BINARYMIME'), true);
  });

  test('keywords are case-insensitive and unknown ones are kept', () => {
    const caps = ehlo('mx', 'starttls', 'X-Custom a B', 'auth plain login', 'Help');
    assert.equal(caps.starttls, true);
    assert.equal(caps.has('x-custom'), true);
    assert.equal(caps.has('HELP'), true);
    assert.equal(caps.has('VRFY'), false);
    assert.deepEqual(caps.keywords.get('X-CUSTOM'), ['a', 'B']);
    assert.deepEqual(caps.auth, ['PLAIN', 'LOGIN']);
  });

  test('the old AUTH=X form is merged and deduplicated', () => {
    const caps = ehlo('mx', 'AUTH=LOGIN PLAIN', 'AUTH PLAIN LOGIN CRAM-MD5', 'AUTH=login');
    assert.deepEqual(caps.auth, ['LOGIN', 'PLAIN', 'CRAM-MD5']);
    assert.deepEqual(caps.keywords.get('AUTH'), ['LOGIN', 'PLAIN', 'CRAM-MD5']);
    assert.equal(caps.has('AUTH'), true);
  });

  test('AUTH with no mechanisms', () => {
    assert.deepEqual(ehlo('mx', 'AUTH').auth, []);
    assert.deepEqual(ehlo('mx', 'AUTH=').auth, []);
  });

  test('SIZE forms (RFC 1870): no number, 0 and junk mean no known limit', () => {
    for (const line of ['SIZE', 'SIZE 0', 'SIZE abc', 'SIZE -5', 'SIZE 99999999999999999999']) {
      const caps = ehlo('mx', line);
      assert.equal(caps.size, true, line);
      assert.equal(caps.sizeLimit, undefined, line);
    }
    assert.equal(ehlo('mx').size, false);
    assert.equal(ehlo('mx', 'SIZE   1000  ').sizeLimit, 1000);
  });

  test('odd spacing, tabs and empty lines', () => {
    const caps = ehlo('  mx.example   hello ', '', '\tPIPELINING', 'SIZE\t500');
    assert.equal(caps.domain, 'mx.example');
    assert.deepEqual(caps.greeting, ['hello']);
    assert.equal(caps.pipelining, true);
    assert.equal(caps.sizeLimit, 500);
  });

  test('a one-line EHLO reply has no extensions', () => {
    const caps = ehlo('mx.example.net');
    assert.equal(caps.domain, 'mx.example.net');
    assert.equal(caps.keywords.size, 0);
  });

  test('the result is read-only', () => {
    const caps = ehlo('mx', 'AUTH PLAIN');
    assert.ok(Object.isFrozen(caps));
    assert.ok(Object.isFrozen(caps.auth));
    assert.ok(Object.isFrozen(caps.keywords.get('AUTH')));
  });

  test('a non-2xx reply is refused', () => {
    assert.throws(
      () => parseEhlo(makeReply(502, ['5.5.1 EHLO not supported'])),
      (e: unknown) => e instanceof ProtocolError && e.code === 'EPROTOCOL',
    );
  });
});

describe('heloCapabilities', () => {
  test('only the name, every extension off', () => {
    const caps = heloCapabilities(makeReply(250, ['mx.example.org Hello there']));
    assert.equal(caps.domain, 'mx.example.org');
    assert.deepEqual(caps.greeting, ['Hello', 'there']);
    assert.equal(caps.size || caps.starttls || caps.pipelining || caps.eightBitMime || caps.smtpUtf8, false);
    assert.equal(caps.sizeLimit, undefined);
    assert.deepEqual(caps.auth, []);
    assert.equal(caps.keywords.size, 0);
    assert.equal(caps.has('PIPELINING'), false);
  });

  test('a non-2xx reply is refused', () => {
    assert.throws(() => heloCapabilities(makeReply(501, ['no'])), ProtocolError);
  });
});
