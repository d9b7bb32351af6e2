// Pure pieces of the server: PROXY protocol headers, trusted upstreams, reply formatting, reject(),
// the Received header, limits and the AUTH throttle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SmtpReplyError } from '../../../src/core/errors.js';
import { parseProxyHeader, trustedProxies } from '../../../src/net/index.js';
import {
  AuthThrottle,
  ConnectionCounter,
  DEFAULT_LIMITS,
  resolveLimits,
} from '../../../src/server/limits.js';
import { protocolKeyword, receivedHeader, rfc5322Date } from '../../../src/server/received.js';
import { formatServerReply, Replies, reject, reply, replyOfError } from '../../../src/server/replies.js';

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.from([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
    0x20 | command,
    family,
    0,
    0,
  ]);
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

describe('PROXY protocol', () => {
  test('v1 TCP4 and TCP6, with what follows left alone', () => {
    const text = Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.1 51234 25\r\nEHLO x\r\n');
    const parsed = parseProxyHeader(text);
    assert.equal(parsed.status, 'ok');
    if (parsed.status !== 'ok') return;
    assert.deepEqual(parsed.header, {
      kind: 'proxy',
      source: { address: '192.0.2.10', port: 51234, family: 4 },
      destination: { address: '198.51.100.1', port: 25, family: 4 },
    });
    assert.equal(text.subarray(parsed.length).toString(), 'EHLO x\r\n');
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1000 587\r\n'));
    assert.equal(
      six.status === 'ok' && six.header.kind === 'proxy' && six.header.source.address,
      '2001:db8::1',
    );
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
      status: 'ok',
      header: { kind: 'local' },
      length: 15,
    });
  });

  test('v1 incomplete, malformed and over-long headers', () => {
    assert.equal(parseProxyHeader(Buffer.from('PRO')).status, 'incomplete');
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')).status, 'incomplete');
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n')).status, 'invalid');
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 ::1 5.6.7.8 1 2\r\n')).status, 'invalid');
    assert.equal(parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(120)}`)).status, 'invalid');
    assert.equal(parseProxyHeader(Buffer.from('EHLO x\r\n')).status, 'invalid');
  });

  test('v2 PROXY over IPv4 and IPv6, LOCAL, and truncation', () => {
    const body = Buffer.from([192, 0, 2, 10, 198, 51, 100, 1, 0xc8, 0x22, 0, 25]);
    const parsed = parseProxyHeader(Buffer.concat([v2(1, 0x11, body), Buffer.from('rest')]));
    assert.ok(parsed.status === 'ok' && parsed.header.kind === 'proxy');
    if (parsed.status !== 'ok' || parsed.header.kind !== 'proxy') return;
    assert.deepEqual(parsed.header.source, { address: '192.0.2.10', port: 51234, family: 4 });
    assert.equal(parsed.length, 28);
    const six = Buffer.alloc(36);
    six[15] = 1; // ::1
    six[31] = 2; // ::2
    six.writeUInt16BE(4000, 32);
    six.writeUInt16BE(465, 34);
    const p6 = parseProxyHeader(v2(1, 0x21, six));
    assert.ok(p6.status === 'ok' && p6.header.kind === 'proxy' && p6.header.source.address === '::1');
    assert.deepEqual(parseProxyHeader(v2(0, 0, Buffer.alloc(0))), {
      status: 'ok',
      header: { kind: 'local' },
      length: 16,
    });
    assert.equal(parseProxyHeader(v2(1, 0x11, body).subarray(0, 20)).status, 'incomplete');
    assert.equal(parseProxyHeader(v2(1, 0x11, body.subarray(0, 6))).status, 'invalid');
  });

  test('trusted upstreams: addresses, networks, IPv4-mapped IPv6', () => {
    const trusted = trustedProxies(['127.0.0.1', '10.0.0.0/8', '2001:db8::/32']);
    assert.equal(trusted('127.0.0.1'), true);
    assert.equal(trusted('::ffff:127.0.0.1'), true);
    assert.equal(trusted('10.20.30.40'), true);
    assert.equal(trusted('2001:db8::5'), true);
    assert.equal(trusted('192.0.2.1'), false);
    assert.equal(trusted('garbage'), false);
    assert.throws(() => trustedProxies(['not-an-address']));
  });
});

describe('replies', () => {
  test('every line carries the code and the enhanced code; text is made safe', () => {
    assert.equal(formatServerReply(Replies.ok), '250 2.0.0 Ok\r\n');
    assert.equal(formatServerReply(reply(250, '2.1.0', 'a', 'b')), '250-2.1.0 a\r\n250 2.1.0 b\r\n');
    assert.equal(
      formatServerReply(reply(550, '5.7.1', 'evil\r\n250 injected')),
      '550 5.7.1 evil 250 injected\r\n',
    );
    assert.equal(formatServerReply(reply(354, undefined, 'go')), '354 go\r\n');
  });

  test('reject() builds the SmtpReplyError a hook throws, and checks its codes', () => {
    const error = reject(550, '5.1.1', 'No such user here');
    assert.ok(error instanceof SmtpReplyError);
    assert.equal(error.code, 'ESMTP_REJECTED');
    assert.deepEqual(replyOfError(error), { code: 550, enhanced: '5.1.1', lines: ['No such user here'] });
    assert.throws(() => reject(250, '2.0.0', 'x'), RangeError);
    assert.throws(() => reject(550, '4.1.1', 'x'), RangeError);
    assert.equal(replyOfError(new Error('internal')), undefined);
  });
});

describe('Received header', () => {
  test('protocol keywords of RFC 3848 and RFC 6531', () => {
    assert.equal(
      protocolKeyword({
        helo: { name: 'x', esmtp: true },
        tls: undefined,
        authenticated: false,
        smtpUtf8: false,
      }),
      'ESMTP',
    );
    const tls = {
      version: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      bits: 256,
      servername: undefined,
      resumed: false,
    };
    assert.equal(
      protocolKeyword({ helo: { name: 'x', esmtp: true }, tls, authenticated: true, smtpUtf8: false }),
      'ESMTPSA',
    );
    assert.equal(
      protocolKeyword({ helo: { name: 'x', esmtp: true }, tls, authenticated: false, smtpUtf8: true }),
      'UTF8SMTPS',
    );
    assert.equal(
      protocolKeyword({
        helo: { name: 'x', esmtp: false },
        tls: undefined,
        authenticated: false,
        smtpUtf8: false,
      }),
      'SMTP',
    );
  });

  test('folded, with TLS details, one recipient named, the client name made safe', () => {
    const header = receivedHeader({
      helo: { name: 'evil(name)\u00e9', esmtp: true },
      remoteAddress: '::1',
      hostname: 'mx.example',
      id: 'ABC123',
      tls: {
        version: 'TLSv1.3',
        cipher: 'TLS_AES_256_GCM_SHA384',
        bits: 256,
        servername: undefined,
        resumed: false,
      },
      authenticated: true,
      smtpUtf8: false,
      recipients: ['bob@example.org'],
      date: new Date(Date.UTC(2024, 10, 28, 13, 5, 12)),
    });
    assert.equal(
      header,
      'Received: from evil?name?? ([IPv6:::1])\r\n' +
        '\tby mx.example (Postern) with ESMTPSA id ABC123\r\n' +
        '\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256)\r\n' +
        '\tfor <bob@example.org>; Thu, 28 Nov 2024 13:05:12 +0000\r\n',
    );
    const two = receivedHeader({
      helo: undefined,
      remoteAddress: '::ffff:192.0.2.1',
      hostname: 'mx.example',
      id: 'X',
      tls: undefined,
      authenticated: false,
      smtpUtf8: false,
      recipients: ['a@x.example', 'b@x.example'],
      date: new Date(0),
    });
    assert.equal(
      two,
      `Received: from unknown ([192.0.2.1])\r\n\tby mx.example (Postern) with ESMTP id X; ${rfc5322Date(new Date(0))}\r\n`,
    );
  });
});

describe('limits', () => {
  test('defaults and validation', () => {
    assert.deepEqual(resolveLimits(undefined), DEFAULT_LIMITS);
    assert.equal(resolveLimits({ maxRecipients: 5 }).maxRecipients, 5);
    assert.throws(() => resolveLimits({ maxRecipients: -1 }));
    assert.throws(() => resolveLimits({ nonsense: 1 } as never));
  });

  test('connection counter: total and per address', () => {
    const limits = resolveLimits({ maxClients: 3, maxClientsPerIp: 2 });
    const counter = new ConnectionCounter();
    assert.equal(counter.acquire('a', limits), 'ok');
    assert.equal(counter.acquire('a', limits), 'ok');
    assert.equal(counter.acquire('a', limits), 'address');
    assert.equal(counter.acquire('b', limits), 'ok');
    assert.equal(counter.acquire('c', limits), 'total');
    counter.release('a');
    assert.equal(counter.acquire('c', limits), 'ok');
    assert.equal(counter.total, 3);
  });

  test('AUTH throttle grows per address, is capped, and forgets on success', () => {
    const limits = resolveLimits({ authFailureDelay: 100 });
    const throttle = new AuthThrottle();
    assert.deepEqual(
      [1, 2, 3, 4].map(() => throttle.fail('a', limits)),
      [100, 200, 400, 800],
    );
    assert.equal(throttle.fail('b', limits), 100);
    for (let i = 0; i < 20; i++) throttle.fail('a', limits);
    assert.equal(throttle.fail('a', limits), 30_000);
    throttle.succeed('a');
    assert.equal(throttle.fail('a', limits), 100);
  });
});
