// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) records and policies, parsed strictly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MTA_STS_MAX_AGE_LIMIT,
  mtaStsPolicyHost,
  mtaStsPolicyUrl,
  mxMatchesPattern,
  mxMatchesPolicy,
  parseMtaStsPolicy,
  parseMtaStsRecord,
  parseTlsRptRecord,
  tlsRptName,
} from '../../../src/audit/dns/index.js';
import { recordsWithVersion } from '../../../src/audit/dns/tag-list.js';

function error<T>(r: { ok: true; value: T } | { ok: false; error: string }): string {
  assert.equal(r.ok, false, `expected an error, got ${JSON.stringify(r)}`);
  return r.ok ? '' : r.error;
}

describe('MTA-STS TXT record (RFC 8461 §3.1)', () => {
  test('valid records: the RFC example, extensions, whitespace around ";", a trailing ";"', () => {
    assert.deepEqual(parseMtaStsRecord('v=STSv1; id=20160831085700Z;'), {
      ok: true,
      value: { id: '20160831085700Z', extensions: {} },
    });
    assert.deepEqual(parseMtaStsRecord('v=STSv1 ;\tid=abc ; x-ext=a:b/c'), {
      ok: true,
      value: { id: 'abc', extensions: { 'x-ext': 'a:b/c' } },
    });
    assert.equal(parseMtaStsRecord(`v=STSv1;id=${'a'.repeat(32)}`).ok, true);
  });

  test('invalid records name their problem', () => {
    assert.match(error(parseMtaStsRecord('v=STSv1')), /no fields/);
    assert.match(error(parseMtaStsRecord('v=STSv1;')), /no fields/);
    assert.match(error(parseMtaStsRecord('v=STSv1; x=1')), /no id/);
    assert.match(error(parseMtaStsRecord('v=STSv1; ID=1')), /no id/, 'field names are case-sensitive');
    assert.match(error(parseMtaStsRecord('v=STSv1; id=1; id=2')), /more than one id/);
    assert.match(error(parseMtaStsRecord(`v=STSv1; id=${'a'.repeat(33)}`)), /1 to 32/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id=2024-01-01')), /1 to 32 letters and digits/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id=1;; x=2')), /empty field/);
    assert.match(error(parseMtaStsRecord('v=STSv1 id=1')), /expected ";"/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id')), /malformed field/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id=')), /empty value/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id=1; _x=1')), /malformed field/);
    assert.match(error(parseMtaStsRecord('v=STSv1; id=1; x=a b')), /malformed field|forbidden/);
    assert.match(error(parseMtaStsRecord('v=STSv2; id=1')), /does not start with "v=STSv1"/);
  });

  test('only TXT records that start with the version are candidates', () => {
    const texts = ['v=spf1 -all', 'v=STSv1; id=1', 'v=STSv10; id=2', 'v=STSv1', 'x v=STSv1; id=3'];
    assert.deepEqual(recordsWithVersion(texts, 'v=STSv1'), ['v=STSv1; id=1', 'v=STSv1']);
  });
});

const POLICY =
  'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n';

describe('MTA-STS policy file (RFC 8461 §3.2)', () => {
  test('the RFC example, with CRLF or LF, with or without the final line break', () => {
    const expected = {
      ok: true,
      value: {
        version: 'STSv1',
        mode: 'enforce',
        mx: ['mail.example.com', '*.example.net'],
        maxAge: 604800,
        extensions: {},
      },
    };
    assert.deepEqual(parseMtaStsPolicy(POLICY), expected);
    assert.deepEqual(parseMtaStsPolicy(Buffer.from(POLICY.replaceAll('\r\n', '\n'))), expected);
    assert.deepEqual(parseMtaStsPolicy(POLICY.replace(/\r\n$/, '')), expected);
  });

  test('mode none needs no mx; unknown fields are kept as extensions; spaces after ":" and at line end', () => {
    const r = parseMtaStsPolicy('version:STSv1\nmode:   none  \nmax_age: 0\nx_note: hello world\n');
    assert.deepEqual(r, {
      ok: true,
      value: { version: 'STSv1', mode: 'none', mx: [], maxAge: 0, extensions: { x_note: 'hello world' } },
    });
  });

  test('max_age bounds: up to 31557600 seconds and 10 digits', () => {
    const with_ = (age: string) =>
      parseMtaStsPolicy(`version: STSv1\nmode: testing\nmx: a.example\nmax_age: ${age}\n`);
    assert.equal(with_(String(MTA_STS_MAX_AGE_LIMIT)).ok, true);
    assert.match(error(with_(String(MTA_STS_MAX_AGE_LIMIT + 1))), /exceeds the maximum/);
    assert.match(error(with_('12345678901')), /1 to 10 digits/);
    assert.match(error(with_('-1')), /1 to 10 digits/);
    assert.match(error(with_('1e5')), /1 to 10 digits/);
  });

  test('missing, duplicated and invalid fields', () => {
    const cases: [string, RegExp][] = [
      ['mode: enforce\nmx: a.example\nmax_age: 1\n', /no version/],
      ['version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n', /not STSv1/],
      ['version: STSv1\nmx: a.example\nmax_age: 1\n', /no mode/],
      ['version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n', /not enforce, testing or none/],
      ['version: STSv1\nmode: enforce\nmx: a.example\n', /no max_age/],
      ['version: STSv1\nmode: enforce\nmax_age: 1\n', /needs at least one mx/],
      [
        'version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 1\n',
        /mode appears more than once/,
      ],
      ['version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nmax_age: 2\n', /more than once/],
      [
        'version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n',
        /line 3: mx "a..example" is not a host name/,
      ],
      ['version: STSv1\nmode: enforce\nmx: mail.*.example\nmax_age: 1\n', /not a host name/],
      ['version: STSv1\nmode: enforce\nmx: *example.com\nmax_age: 1\n', /not a host name/],
      ['version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n', /not a host name/],
      ['version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n', /not a host name/],
      ['version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n', /line 2 is empty/],
      ['version : STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n', /line 1: .* is not "key: value"/],
      ['version: STSv1\rmode: enforce\nmx: a.example\nmax_age: 1\n', /bare CR/],
      ['<html>\n', /is not "key: value"/],
    ];
    for (const [text, why] of cases) assert.match(error(parseMtaStsPolicy(text)), why, JSON.stringify(text));
  });

  test('a body that is not UTF-8 is an error, not a crash', () => {
    assert.match(error(parseMtaStsPolicy(Buffer.from([0x76, 0xff, 0xfe, 0x0a]))), /not valid UTF-8/);
  });

  test('policy host and URL', () => {
    assert.equal(mtaStsPolicyHost('Example.COM.'), 'mta-sts.example.com');
    assert.equal(mtaStsPolicyUrl('example.com'), 'https://mta-sts.example.com/.well-known/mta-sts.txt');
  });
});

describe('mx patterns (RFC 8461 §4.1)', () => {
  test('exact names, case-insensitive, trailing dots ignored', () => {
    assert.equal(mxMatchesPattern('mail.example.com', 'mail.example.com'), true);
    assert.equal(mxMatchesPattern('MAIL.Example.com.', 'mail.example.COM'), true);
    assert.equal(mxMatchesPattern('mail2.example.com', 'mail.example.com'), false);
    assert.equal(mxMatchesPattern('xmail.example.com', 'mail.example.com'), false);
  });

  test('"*.example.com" matches exactly one label in place of the "*"', () => {
    assert.equal(mxMatchesPattern('mail.example.com', '*.example.com'), true);
    assert.equal(mxMatchesPattern('example.com', '*.example.com'), false);
    assert.equal(mxMatchesPattern('a.b.example.com', '*.example.com'), false);
    assert.equal(mxMatchesPattern('mailexample.com', '*.example.com'), false);
    assert.equal(mxMatchesPattern('.example.com', '*.example.com'), false);
  });

  test('mxMatchesPolicy: any pattern', () => {
    assert.equal(mxMatchesPolicy('mx1.example.net', ['mail.example.com', '*.example.net']), true);
    assert.equal(mxMatchesPolicy('mx1.example.org', ['mail.example.com', '*.example.net']), false);
    assert.equal(mxMatchesPolicy('mx1.example.org', []), false);
  });
});

describe('TLS-RPT TXT record (RFC 8460 §3)', () => {
  test('mailto: and https: destinations, one or several', () => {
    assert.deepEqual(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:tlsrpt@example.com'), {
      ok: true,
      value: { rua: ['mailto:tlsrpt@example.com'], extensions: {} },
    });
    const two = parseTlsRptRecord('v=TLSRPTv1;rua=mailto:a@example.com , https://reports.example.com/v1;');
    assert.deepEqual(two.ok && two.value.rua, ['mailto:a@example.com', 'https://reports.example.com/v1']);
  });

  test('invalid records', () => {
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1')), /no fields/);
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; x=1')), /no rua/);
    assert.match(
      error(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com')),
      /more than one rua/,
    );
    assert.match(
      error(parseTlsRptRecord('v=TLSRPTv1; rua=http://example.com/r')),
      /RFC 8460 only defines mailto: and https:/,
    );
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; rua=ftp://example.com/r')), /ftp:/);
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:nobody')), /no valid mail address/);
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; rua=tlsrpt@example.com')), /not a URI/);
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:a@example.com,')), /empty URI/);
    assert.match(error(parseTlsRptRecord('v=TLSRPTv1; rua=mailto:%zz@example.com')), /no valid mail address/);
  });

  test('record name', () => {
    assert.equal(tlsRptName('Example.com.'), '_smtp._tls.example.com');
  });
});
