import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../src/core/errors.js';
import { addressField, parseAddresses, parseAddrSpec } from '../../../src/mime/address.js';
import { parseAddressList } from '../../../src/mime/address-parser.js';

const ascii = { smtpUtf8: false };
const utf8 = { smtpUtf8: true };

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('parseAddressList', () => {
  test('reads names, quoted names with commas, comments and bare addresses', () => {
    assert.deepEqual(
      parseAddressList('Ann Lee <ann@example.com>, "Smith, Bob" <bob@x.org>, c@y.net (Carol), d@z.io'),
      [
        { name: 'Ann Lee', address: 'ann@example.com' },
        { name: 'Smith, Bob', address: 'bob@x.org' },
        { name: 'Carol', address: 'c@y.net' },
        { name: '', address: 'd@z.io' },
      ],
    );
  });

  test('reads groups, including empty ones', () => {
    assert.deepEqual(parseAddressList('Team: a@x.org, B <b@x.org>;, undisclosed-recipients:;'), [
      {
        name: 'Team',
        group: [
          { name: '', address: 'a@x.org' },
          { name: 'B', address: 'b@x.org' },
        ],
      },
      { name: 'undisclosed-recipients', group: [] },
    ]);
  });

  test('keeps quoted local parts and address literals', () => {
    assert.deepEqual(parseAddressList('"john doe"@example.com, x@[IPv6:2001:db8::1]'), [
      { name: '', address: '"john doe"@example.com' },
      { name: '', address: 'x@[IPv6:2001:db8::1]' },
    ]);
  });

  test('unescapes quoted names', () => {
    assert.deepEqual(parseAddressList('"a \\"b\\" \\\\ c" <a@b.c>'), [
      { name: 'a "b" \\ c', address: 'a@b.c' },
    ]);
  });
});

describe('parseAddrSpec', () => {
  const valid = [
    'user@example.com',
    "o'hara+tag=x!#$%&*/?^_`{|}~-@example.com",
    '"john doe"@example.com',
    '"a@b"@example.com',
    'x@[192.0.2.1]',
    'x@[IPv6:2001:db8::1]',
    'x@bücher.example',
    'x@xn--bcher-kva.example',
    'user@localhost',
  ];
  for (const address of valid) {
    test(`accepts ${address}`, () => {
      parseAddrSpec(address, '', ascii);
    });
  }

  const invalid = [
    'userexample.com',
    '@example.com',
    'user@',
    'a..b@example.com',
    '.a@example.com',
    'a b@example.com',
    'a@exa mple.com',
    'a@-example.com',
    'a@example..com',
    'a@[300.1.1.1]',
    'a@[IPv6:zz::1]',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(64)}.com`,
    'a<b@example.com',
  ];
  for (const address of invalid) {
    test(`refuses ${JSON.stringify(address)}`, () =>
      throwsCode(() => parseAddrSpec(address, '', ascii), 'EADDRESS_INVALID'));
  }

  test('a UTF-8 local part needs SMTPUTF8', () => {
    throwsCode(() => parseAddrSpec('josé@example.com', '', ascii), 'ESMTPUTF8_REQUIRED');
    assert.equal(parseAddrSpec('josé@example.com', '', utf8).local, 'josé');
  });

  test('gives the A-label form of an IDN domain', () => {
    assert.equal(parseAddrSpec('info@bücher.example', '', ascii).asciiDomain, 'xn--bcher-kva.example');
  });

  test('refuses line breaks (injection)', () => {
    throwsCode(() => parseAddrSpec('a@b.c\r\nBcc: x@y.z', '', ascii), 'ECOMMAND_INJECTION');
  });
});

describe('parseAddresses', () => {
  test('takes strings, objects, groups and arrays of them', () => {
    const entries = parseAddresses(
      [
        'Ann <ann@example.com>, bob@example.com',
        { name: 'Zoë', address: 'zoe@example.com' },
        { name: 'Team', group: ['t@example.com'] },
      ],
      'to',
      ascii,
    );
    assert.equal(entries.length, 4);
    assert.deepEqual(entries[3], {
      name: 'Team',
      members: [{ name: '', local: 't', domain: 'example.com', asciiDomain: 'example.com' }],
    });
  });

  test('refuses a group where only mailboxes are allowed', () => {
    throwsCode(() => parseAddresses('Team: a@x.org;', 'from', ascii, false), 'EADDRESS_INVALID');
  });

  test('refuses a display name with a line break', () => {
    throwsCode(
      () => parseAddresses({ name: 'Ann\r\nBcc: x@y.z', address: 'a@b.c' }, 'to', ascii),
      'ECOMMAND_INJECTION',
    );
  });

  test('refuses things that are not addresses', () => {
    throwsCode(() => parseAddresses(42 as never, 'to', ascii), 'EADDRESS_INVALID');
    throwsCode(() => parseAddresses('Ann', 'to', ascii), 'EADDRESS_INVALID');
  });
});

describe('addressField', () => {
  const field = (input: Parameters<typeof parseAddresses>[0], context = ascii) =>
    addressField('To', parseAddresses(input, 'to', context), context);

  test('writes atoms, quoted strings and encoded words as each name needs', () => {
    assert.equal(field('Ann Lee <ann@example.com>'), 'To: Ann Lee <ann@example.com>\r\n');
    assert.equal(
      field({ name: 'Lee, Ann', address: 'ann@example.com' }),
      'To: "Lee, Ann" <ann@example.com>\r\n',
    );
    assert.equal(field({ name: 'a "b" \\c', address: 'a@b.c' }), 'To: "a \\"b\\" \\\\c" <a@b.c>\r\n');
    assert.equal(
      field({ name: '张三', address: 'z@example.cn' }),
      'To: =?utf-8?B?5byg5LiJ?= <z@example.cn>\r\n',
    );
    assert.equal(
      field({ name: 'Zoë', address: 'zoe@bücher.example' }),
      'To: =?utf-8?Q?Zo=C3=AB?= <zoe@xn--bcher-kva.example>\r\n',
    );
  });

  test('under SMTPUTF8 names and IDN domains go raw', () => {
    assert.equal(field({ name: '张三', address: '张@例え.テスト' }, utf8), 'To: 张三 <张@例え.テスト>\r\n');
  });

  test('encodes a name that looks like an encoded word', () => {
    assert.match(field({ name: '=?utf-8?Q?evil?=', address: 'a@b.c' }), /^To: =\?utf-8\?[BQ]\?/);
  });

  test('writes groups', () => {
    assert.equal(field('Team: a@x.org, b@x.org;, c@y.org'), 'To: Team: a@x.org, b@x.org;, c@y.org\r\n');
    assert.equal(field({ name: 'Nobody', group: [] }), 'To: Nobody:;\r\n');
  });

  test('folds between addresses, never inside one', () => {
    const many = Array.from(
      { length: 20 },
      (_, i) => `Person Number${i} <person.number${i}@example.com>`,
    ).join(', ');
    const out = field(many);
    for (const line of out.slice(0, -2).split('\r\n')) assert.ok(line.length <= 78, line);
    assert.equal(out.replace(/\r\n /g, ' '), `To: ${many}\r\n`);
  });
});
