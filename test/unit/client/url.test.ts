import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { PosternError, parseSmtpUrl, queueIdOf, Secret } from '../../../src/index.js';
import { makeReply } from '../../../src/protocol/index.js';

test('smtps:// means implicit TLS on 465, smtp:// means required STARTTLS on 587', () => {
  assert.deepEqual(
    { ...parseSmtpUrl('smtps://mail.example.com') },
    { host: 'mail.example.com', port: 465, tls: 'implicit' },
  );
  assert.deepEqual(
    { ...parseSmtpUrl('smtp://mail.example.com') },
    { host: 'mail.example.com', port: 587, tls: 'starttls' },
  );
  assert.equal(parseSmtpUrl('smtp://mail.example.com:25?tls=opportunistic').tls, 'opportunistic');
  assert.equal(parseSmtpUrl('smtp://mail.example.com:25?tls=opportunistic').port, 25);
  assert.equal(parseSmtpUrl('smtp://[::1]:2525').host, '::1');
  assert.equal(parseSmtpUrl('smtp://h?pool=false').pool, false);
  assert.equal(parseSmtpUrl('smtp://h?auth=CRAM-MD5').authMethod, 'CRAM-MD5');
  assert.equal(parseSmtpUrl('smtp://h?servername=mx.example.com').tlsOptions?.servername, 'mx.example.com');
});

test('credentials in the URL are decoded and kept as a Secret', () => {
  const o = parseSmtpUrl('smtps://me%40example.com:p%40ss%3Aw0rd@mail.example.com');
  assert.ok(o.auth && 'pass' in o.auth);
  assert.equal(o.auth.user, 'me@example.com');
  assert.ok(o.auth.pass instanceof Secret);
  assert.equal((o.auth.pass as Secret).reveal(), 'p@ss:w0rd');
  assert.equal(inspect(o, { depth: 5 }).includes('p@ss'), false);
  assert.equal(JSON.stringify(o).includes('p@ss'), false);
});

test('bad URLs are config errors that never echo the password', () => {
  for (const bad of ['http://u:topsecret@h', 'smtp://u:topsecret@h?tls=maybe', 'not a url topsecret']) {
    assert.throws(
      () => parseSmtpUrl(bad),
      (e) =>
        e instanceof PosternError &&
        e.code === 'ECONFIG' &&
        !e.message.includes('topsecret') &&
        bad.length > 0,
    );
  }
});

test('queue ids are recognised in the common server formats', () => {
  const cases: [string, string | undefined][] = [
    ['2.0.0 Ok: queued as 4Yx2Kb1Zz9z', '4Yx2Kb1Zz9z'],
    ['OK id=1tQw3E-0001aB-2c', '1tQw3E-0001aB-2c'],
    ['2.0.0 Ok: queued as <abc.def@host>', 'abc.def@host'],
    ['Accepted', undefined],
  ];
  for (const [text, id] of cases) assert.equal(queueIdOf(makeReply(250, [text])), id, text);
});
