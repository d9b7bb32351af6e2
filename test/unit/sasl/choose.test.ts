import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseMechanism } from '../../../src/sasl/index.js';

const password = { user: 'u', pass: 'p' };
const oauth = { user: 'u', accessToken: 't' };
const ALL = [
  'LOGIN',
  'PLAIN',
  'CRAM-MD5',
  'SCRAM-SHA-1',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-256-PLUS',
  'XOAUTH2',
  'OAUTHBEARER',
];

describe('chooseMechanism: the built-in order', () => {
  test('passwords: strongest offered first, -PLUS only with channel binding', () => {
    assert.equal(chooseMechanism(ALL, password, { channelBinding: true }), 'SCRAM-SHA-256-PLUS');
    assert.equal(chooseMechanism(ALL, password), 'SCRAM-SHA-256');
    assert.equal(chooseMechanism(ALL, password, { channelBinding: false }), 'SCRAM-SHA-256');
    const order = [
      'SCRAM-SHA-256-PLUS',
      'SCRAM-SHA-1-PLUS',
      'SCRAM-SHA-256',
      'SCRAM-SHA-1',
      'CRAM-MD5',
      'PLAIN',
      'LOGIN',
    ];
    for (let i = 0; i < order.length; i++) {
      assert.equal(chooseMechanism(order.slice(i), password, { channelBinding: true }), order[i]);
    }
  });

  test('SCRAM-SHA-1-PLUS is never chosen without channel binding', () => {
    assert.equal(chooseMechanism(['SCRAM-SHA-1-PLUS', 'PLAIN'], password), 'PLAIN');
    assert.equal(chooseMechanism(['SCRAM-SHA-1-PLUS'], password), undefined);
  });

  test('OAuth credentials: OAUTHBEARER, then XOAUTH2, never a password mechanism', () => {
    assert.equal(chooseMechanism(ALL, oauth), 'OAUTHBEARER');
    assert.equal(chooseMechanism(['PLAIN', 'XOAUTH2'], oauth), 'XOAUTH2');
    assert.equal(chooseMechanism(['PLAIN', 'LOGIN'], oauth), undefined);
    assert.equal(chooseMechanism(['XOAUTH2', 'OAUTHBEARER'], password), undefined);
  });

  test('names compare case-insensitively and come back canonical; unknown names are ignored', () => {
    assert.equal(chooseMechanism(['plain', 'Scram-Sha-1', 'GSSAPI', 'NTLM'], password), 'SCRAM-SHA-1');
    assert.equal(chooseMechanism([], password), undefined);
  });
});

describe('chooseMechanism: preferred', () => {
  test('the first preferred mechanism that is offered and fits wins', () => {
    assert.equal(chooseMechanism(ALL, password, { preferred: ['plain', 'LOGIN'] }), 'PLAIN');
    assert.equal(
      chooseMechanism(['LOGIN', 'CRAM-MD5'], password, { preferred: ['PLAIN', 'LOGIN'] }),
      'LOGIN',
    );
    assert.equal(chooseMechanism(ALL, password, { preferred: ['XOAUTH2', 'CRAM-MD5'] }), 'CRAM-MD5');
  });

  test('when no preferred mechanism is offered the answer is undefined, not a fallback', () => {
    assert.equal(chooseMechanism(['PLAIN', 'LOGIN'], password, { preferred: ['SCRAM-SHA-256'] }), undefined);
    assert.equal(chooseMechanism(ALL, password, { preferred: ['GSSAPI'] }), undefined);
  });

  test('a preferred -PLUS mechanism needs channel binding', () => {
    const preferred = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'];
    assert.equal(chooseMechanism(ALL, password, { preferred }), 'SCRAM-SHA-256');
    assert.equal(chooseMechanism(ALL, password, { preferred, channelBinding: true }), 'SCRAM-SHA-256-PLUS');
  });

  test('an empty preferred list means the built-in order', () => {
    assert.equal(chooseMechanism(ALL, password, { preferred: [] }), 'SCRAM-SHA-256');
  });
});
