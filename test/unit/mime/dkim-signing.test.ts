import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Secret } from '../../../src/core/secret.js';
import {
  type DkimCanonicalization,
  type DkimOptions,
  dkimSign,
  MAX_HEADER_SECTION_BYTES,
  signHeaders,
} from '../../../src/mime/dkim/index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const NOW = new Date('2025-03-04T05:06:07.890Z');
const T = Math.floor(NOW.getTime() / 1000);

const HEADERS =
  'From: Alice Example <alice@example.com>\r\n' +
  'To: Bob <bob@example.org>, "Carol, C." <carol@example.net>\r\n' +
  'Subject: =?UTF-8?B?5rWL6K+V?= and  spaces\r\n' +
  '\tfolded here\r\n' +
  'Date: Tue, 04 Mar 2025 05:06:07 +0000\r\n' +
  'Message-ID: <m1@example.com>\r\n' +
  'X-Mailer: not signed\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n';
const BODY = 'Hello  Bob,\t\r\n\r\nsee you   there. \r\n\r\n\r\n';
const MESSAGE = `${HEADERS}\r\n${BODY}`;

function base(overrides: Partial<DkimOptions> = {}): DkimOptions {
  return { domainName: 'example.com', keySelector: 'sel', privateKey: rsa.privateKey, ...overrides };
}

// ---- An independent verifier, written from RFC 6376 §3.4 and §3.7 with regular expressions ----

const refBody = {
  simple: (body: string) => `${body.replace(/(\r\n)+$/, '')}\r\n`,
  relaxed: (body: string) => {
    const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+$/, '').replace(/[ \t]+/g, ' '));
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
  },
};

function refHeader(field: string, kind: string): string {
  if (kind === 'simple') return field;
  const colon = field.indexOf(':');
  const value = field
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, '')
    .replace(/\r\n$/, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return `${field
    .slice(0, colon)
    .replace(/[ \t]+$/, '')
    .toLowerCase()}:${value}\r\n`;
}

interface Verdict {
  readonly ok: boolean;
  readonly tags: Record<string, string>;
  readonly field: string;
}

function verifyMessage(message: Buffer | string, keys: Record<string, KeyObject>): Verdict[] {
  const text = typeof message === 'string' ? message : message.toString('latin1');
  // The blank line: at -2 when the message opens with it, -1 when there is none (no body).
  const blank = text.startsWith('\r\n') ? -2 : text.indexOf('\r\n\r\n');
  const head = blank === -1 ? text : text.slice(0, blank + 2);
  const body = blank === -1 ? '' : text.slice(blank + 4);
  const fields = head.match(/[^ \t\r\n][^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/g) ?? [];
  const nameOf = (f: string) => f.slice(0, f.indexOf(':')).trim().toLowerCase();
  return fields
    .filter((f) => nameOf(f) === 'dkim-signature')
    .map((field) => {
      const tags: Record<string, string> = {};
      for (const spec of field.slice(field.indexOf(':') + 1).split(';')) {
        const eq = spec.indexOf('=');
        if (eq !== -1) tags[spec.slice(0, eq).trim()] = spec.slice(eq + 1).replace(/\s+/g, '');
      }
      const [hc = 'simple', bc = 'simple'] = (tags['c'] ?? 'simple').split('/');
      const bodyHash = createHash('sha256')
        .update(refBody[bc as 'simple' | 'relaxed'](body), 'latin1')
        .digest('base64');
      if (bodyHash !== tags['bh']) return { ok: false, tags, field };
      const used = new Map<string, number>();
      let data = '';
      for (const name of (tags['h'] ?? '').toLowerCase().split(':')) {
        // The next instance upwards from the last one used (RFC 6376 §5.4.2); none left adds nothing.
        let i = used.get(name) ?? fields.length;
        while (--i >= 0 && nameOf(fields[i]!) !== name);
        used.set(name, i);
        if (i >= 0) data += refHeader(fields[i]!, hc);
      }
      const withoutB = field.replace(/([;\s]b[ \t]*=)[^;]*/, '$1');
      data += refHeader(withoutB.endsWith('\r\n') ? withoutB : `${withoutB}\r\n`, hc).replace(/\r\n$/, '');
      const signature = Buffer.from(tags['b'] ?? '', 'base64');
      const key = keys[tags['s'] ?? '']!;
      const input = Buffer.from(data, 'latin1');
      const ok =
        tags['a'] === 'rsa-sha256'
          ? verify('sha256', input, key, signature)
          : verify(null, createHash('sha256').update(input).digest(), key, signature);
      return { ok, tags, field };
    });
}

const KEYS = { sel: rsa.publicKey, rsa: rsa.publicKey, ed: ed.publicKey };

async function bodyHashOf(body: string, kind: 'simple' | 'relaxed'): Promise<Buffer> {
  return createHash('sha256').update(refBody[kind](body), 'latin1').digest();
}

function sign(message: string, options: DkimOptions, now = NOW): string {
  const end = message.indexOf('\r\n\r\n') + 2;
  const kind = options.canonicalization?.endsWith('/simple') ? 'simple' : 'relaxed';
  const bh = createHash('sha256')
    .update(refBody[kind](message.slice(end + 2)), 'latin1')
    .digest();
  return signHeaders(Buffer.from(message.slice(0, end), 'latin1'), bh, options, now);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function source(...chunks: (string | Buffer)[]): () => Readable {
  return () => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'latin1') : c)));
}

// ---- signHeaders ----

describe('signHeaders', () => {
  const canonicalizations: DkimCanonicalization[] = [
    'relaxed/relaxed',
    'simple/simple',
    'relaxed/simple',
    'simple/relaxed',
  ];
  for (const c of canonicalizations) {
    for (const [name, privateKey, selector] of [
      ['rsa-sha256', rsa.privateKey, 'rsa'],
      ['ed25519-sha256', ed.privateKey, 'ed'],
    ] as const) {
      test(`${name} ${c}: the field verifies`, () => {
        const field = sign(MESSAGE, base({ privateKey, keySelector: selector, canonicalization: c }));
        const [verdict] = verifyMessage(field + MESSAGE, KEYS);
        assert.equal(verdict?.ok, true);
        assert.equal(verdict.tags['a'], name);
        assert.equal(verdict.tags['c'], c);
      });
    }
  }

  test('tags: v a c d s t h bh b, x= and i= only when asked, never l=', () => {
    const plain = verifyMessage(sign(MESSAGE, base()) + MESSAGE, KEYS)[0]!;
    assert.deepEqual(Object.keys(plain.tags), ['v', 'a', 'c', 'd', 's', 't', 'h', 'bh', 'b']);
    assert.equal(plain.tags['t'], String(T));
    const full = verifyMessage(
      sign(MESSAGE, base({ expiresIn: 3600, identity: 'alice;x=y@Mail.Example.com' })) + MESSAGE,
      KEYS,
    )[0]!;
    assert.equal(full.ok, true);
    assert.deepEqual(Object.keys(full.tags), ['v', 'a', 'c', 'd', 's', 't', 'x', 'i', 'h', 'bh', 'b']);
    assert.equal(full.tags['x'], String(T + 3600));
    assert.match(full.field, /i=alice=3Bx=3Dy@mail\.example\.com;/);
  });

  test('h= lists present fields of the list, each instance, and From once more (over-signed)', () => {
    const { tags } = verifyMessage(sign(MESSAGE, base()) + MESSAGE, KEYS)[0]!;
    assert.equal(tags['h'], 'from:from:to:subject:date:message-id:mime-version:content-type');
    const twice = `Comments: one\r\n${MESSAGE.replace('X-Mailer', 'Comments: two\r\nX-Mailer')}`;
    const field = sign(twice, base({ headerFieldNames: ['From', 'Comments'], overSign: ['reply-to'] }));
    const verdict = verifyMessage(field + twice, KEYS)[0]!;
    assert.equal(verdict.ok, true);
    assert.equal(verdict.tags['h'], 'from:comments:comments:reply-to');
  });

  test('a From added later, or a byte changed in a signed field, breaks the signature', () => {
    const field = sign(MESSAGE, base());
    assert.equal(verifyMessage(field + MESSAGE, KEYS)[0]!.ok, true);
    const addedFrom = MESSAGE.replace('X-Mailer', 'From: mallory@evil.example\r\nX-Mailer');
    assert.equal(verifyMessage(field + addedFrom, KEYS)[0]!.ok, false);
    assert.equal(verifyMessage(`${field}From: mallory@evil.example\r\n${MESSAGE}`, KEYS)[0]!.ok, false);
    assert.equal(verifyMessage(field + MESSAGE.replace('Subject: =?', 'Subject: =!'), KEYS)[0]!.ok, false);
    // Not signed: changing it, or adding an unlisted field, keeps the signature valid.
    assert.equal(verifyMessage(field + MESSAGE.replace('not signed', 'changed!!!'), KEYS)[0]!.ok, true);
    assert.equal(verifyMessage(`${field}Received: by relay\r\n${MESSAGE}`, KEYS)[0]!.ok, true);
  });

  test('an over-signed field that is absent cannot be added later', () => {
    const field = sign(MESSAGE, base({ overSign: ['From', 'Reply-To'] }));
    assert.match(field, /h=from:from:reply-to:to:/, 'listed once although absent');
    assert.equal(verifyMessage(field + MESSAGE, KEYS)[0]!.ok, true);
    const added = MESSAGE.replace('X-Mailer', 'Reply-To: mallory@evil.example\r\nX-Mailer');
    assert.equal(verifyMessage(field + added, KEYS)[0]!.ok, false);
  });

  test('folded at 78 columns even with a 4096-bit key, long h= and all tags', () => {
    const big = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const names = Array.from({ length: 30 }, (_, i) => `X-Long-Header-Name-${i}`);
    const message = `${names.map((n) => `${n}: v\r\n`).join('')}${MESSAGE}`;
    const field = sign(
      message,
      base({
        privateKey: big.privateKey,
        domainName: 'mail.subdomain.example.com',
        keySelector: 'selector-2025-03',
        headerFieldNames: ['From', ...names],
        expiresIn: 86400 * 7,
        identity: 'someone@mail.subdomain.example.com',
      }),
    );
    assert.ok(field.startsWith('DKIM-Signature: v=1; a=rsa-sha256;'));
    assert.ok(field.endsWith('\r\n') && !field.endsWith('\r\n\r\n'));
    const lines = field.slice(0, -2).split('\r\n');
    assert.ok(lines.length > 10);
    for (const [i, line] of lines.entries()) {
      assert.ok(line.length <= 78, `line ${i} has ${line.length} chars: ${line}`);
      if (i > 0) assert.match(line, /^ \S/, 'continuation lines start with one space');
    }
    assert.match(field, /;\s+b=[A-Za-z0-9+/=\r\n ]+$/, 'b= is the last tag');
    assert.equal(verifyMessage(field + message, { 'selector-2025-03': big.publicKey })[0]!.ok, true);
  });

  test('bare LF in the header block is signed as CRLF', () => {
    const lf = MESSAGE.replace(/\r\n/g, '\n');
    const end = lf.indexOf('\n\n') + 1;
    const bh = createHash('sha256').update(refBody.relaxed(BODY)).digest();
    const field = signHeaders(Buffer.from(lf.slice(0, end)), bh, base(), NOW);
    assert.equal(verifyMessage(field + MESSAGE, KEYS)[0]!.ok, true);
  });

  test('a message without From, a malformed header section or a bad body hash is refused', async () => {
    const bh = await bodyHashOf(BODY, 'relaxed');
    const noFrom = Buffer.from(HEADERS.replace(/^From: .*\r\n/, ''));
    assert.throws(() => signHeaders(noFrom, bh, base()), { name: 'InputError', message: /without a From/ });
    assert.throws(() => signHeaders(Buffer.from(' x: y\r\nFrom: a\r\n'), bh, base()), { name: 'InputError' });
    assert.throws(() => signHeaders(Buffer.from(HEADERS), bh.subarray(0, 20), base()), {
      name: 'InputError',
    });
    assert.throws(() => signHeaders(Buffer.from(HEADERS), bh, base(), new Date('nope')), {
      name: 'InputError',
    });
  });
});

// ---- keys ----

describe('keys', () => {
  const pkcs8Rsa = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const pkcs1Rsa = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const pkcs8Ed = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  test('the algorithm follows the key: PEM PKCS#8 / PKCS#1, Secret, KeyObject', () => {
    const cases: [DkimOptions['privateKey'], string][] = [
      [pkcs8Rsa, 'rsa-sha256'],
      [pkcs1Rsa, 'rsa-sha256'],
      [new Secret(pkcs1Rsa), 'rsa-sha256'],
      [rsa.privateKey, 'rsa-sha256'],
      [pkcs8Ed, 'ed25519-sha256'],
      [new Secret(pkcs8Ed), 'ed25519-sha256'],
      [ed.privateKey, 'ed25519-sha256'],
    ];
    for (const [privateKey, algorithm] of cases) {
      const keySelector = algorithm === 'rsa-sha256' ? 'rsa' : 'ed';
      const verdict = verifyMessage(sign(MESSAGE, base({ privateKey, keySelector })) + MESSAGE, KEYS)[0]!;
      assert.equal(verdict.tags['a'], algorithm);
      assert.equal(verdict.ok, true);
    }
    assert.match(sign(MESSAGE, base({ algorithm: 'rsa-sha256' })), /a=rsa-sha256;/);
  });

  test('bad keys are refused with InputError, and no key material appears in errors', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const small = generateKeyPairSync('rsa', { modulusLength: 768 });
    const encrypted = rsa.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    }) as string;
    const corrupted = pkcs8Rsa.replace(/\n[A-Za-z0-9+/]{10}/, '\n##########');
    const cases: [unknown, RegExp][] = [
      ['not a key', /not PEM/],
      [corrupted, /could not be read/],
      [rsa.publicKey.export({ type: 'spki', format: 'pem' }), /could not be read/],
      [rsa.publicKey, /public key/],
      [ec.privateKey, /cannot sign with a ec key/],
      [pss.privateKey, /rsa-pss/],
      [small.privateKey, /768 bits/],
      [encrypted, /encrypted/],
      [new Secret('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /could not be read/],
      [42, /wrong type/],
      [undefined, /wrong type/],
    ];
    const secretLines = [pkcs8Rsa, pkcs1Rsa, encrypted, corrupted].flatMap((pem) =>
      pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
    );
    for (const [privateKey, message] of cases) {
      assert.throws(
        () => sign(MESSAGE, base({ privateKey: privateKey as DkimOptions['privateKey'] })),
        (error: unknown) => {
          assert.equal((error as { name: string }).name, 'InputError');
          assert.equal((error as { code: string }).code, 'EINVALID_ARGUMENT');
          assert.match((error as Error).message, message);
          const shown = `${(error as Error).message}\n${inspect(error, { depth: 5 })}`;
          for (const line of secretLines)
            assert.ok(!shown.includes(line.slice(0, 20)), 'key material in error');
          return true;
        },
        String(message),
      );
    }
  });

  test('an algorithm that does not match the key is refused', () => {
    assert.throws(() => sign(MESSAGE, base({ algorithm: 'ed25519-sha256' })), {
      name: 'InputError',
      message: /does not match the private key, which is a rsa key/,
    });
    assert.throws(() => sign(MESSAGE, base({ algorithm: 'rsa-sha1' as never })), { name: 'InputError' });
  });

  test('a Secret key stays hidden in util.inspect of the options', () => {
    const options = base({ privateKey: new Secret(pkcs1Rsa) });
    assert.ok(!inspect(options, { depth: 5 }).includes(secretLine(pkcs1Rsa)));
    assert.ok(!inspect(rsa.privateKey).includes(secretLine(pkcs1Rsa)));
  });
});

function secretLine(pem: string): string {
  return pem.split('\n')[1]!.slice(0, 20);
}

// ---- options ----

describe('options', () => {
  const bad: [Partial<DkimOptions>, RegExp][] = [
    [{ domainName: '' }, /domainName is required/],
    [{ domainName: 'exa mple.com' }, /domainName is not a valid domain/],
    [{ domainName: '-bad.example' }, /domainName is not a valid domain/],
    [{ keySelector: 'a;b' }, /keySelector is not a valid domain/],
    [{ canonicalization: 'relaxed' as never }, /canonicalization must be one of/],
    [{ headerFieldNames: ['To', 'Subject'] }, /must include From/],
    [{ headerFieldNames: ['From', 'Bad Name'] }, /invalid field name/],
    [{ headerFieldNames: ['From', 'DKIM-Signature'] }, /must not list DKIM-Signature/],
    [{ overSign: ['From:'] }, /invalid field name/],
    [{ expiresIn: 0 }, /expiresIn/],
    [{ expiresIn: 1.5 }, /expiresIn/],
    [{ identity: 'alice@evil.example' }, /identity domain must be example.com/],
    [{ identity: 'alice@notexample.com' }, /identity domain must be example.com/],
    [{ identity: 'no-at-sign' }, /identity must look like/],
    [{ identity: 'caf\u00e9@example.com' }, /printable US-ASCII/],
  ];
  for (const [override, message] of bad) {
    test(`refused: ${JSON.stringify(override)}`, () => {
      assert.throws(() => sign(MESSAGE, base(override)), {
        name: 'InputError',
        code: 'EINVALID_ARGUMENT',
        message,
      });
    });
  }

  test('an internationalised domain is signed in A-label form; header names match case-insensitively', () => {
    const field = sign(
      MESSAGE,
      base({ domainName: 'bücher.example', headerFieldNames: ['FROM', 'subject', 'To'] }),
    );
    assert.match(field, /d=xn--bcher-kva\.example;/);
    assert.match(field, /h=from:from:subject:to;/);
  });
});

// ---- dkimSign ----

describe('dkimSign', () => {
  test('emits the signature fields, then the message unchanged; both signatures verify', async () => {
    const out = await collect(
      await dkimSign(source(MESSAGE), [
        base({ keySelector: 'rsa' }),
        base({ privateKey: ed.privateKey, keySelector: 'ed', canonicalization: 'simple/simple' }),
      ]),
    );
    const text = out.toString('latin1');
    assert.ok(text.endsWith(MESSAGE));
    const verdicts = verifyMessage(out, KEYS);
    assert.deepEqual(
      verdicts.map((v) => [v.ok, v.tags['a'], v.tags['c']]),
      [
        [true, 'rsa-sha256', 'relaxed/relaxed'],
        [true, 'ed25519-sha256', 'simple/simple'],
      ],
    );
    assert.equal(text.indexOf('DKIM-Signature'), 0);
  });

  test('any chunking of the source gives the same body hash and a valid signature', async () => {
    const bytes = Buffer.from(MESSAGE, 'latin1');
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const out = await collect(
        await dkimSign(source(...chunks), base({ privateKey: ed.privateKey, keySelector: 'ed' })),
      );
      const [verdict] = verifyMessage(out, KEYS);
      assert.equal(verdict?.ok, true, `chunks of ${size}`);
      assert.equal(verdict.tags['bh'], (await bodyHashOf(BODY, 'relaxed')).toString('base64'));
    }
  });

  test('bare LF and bare CR in the source are emitted as CRLF, exactly as hashed', async () => {
    const lf = MESSAGE.replace(/\r\n/g, '\n').replace('see you', 'see\ryou');
    const out = await collect(await dkimSign(source(lf), base({ canonicalization: 'simple/simple' })));
    const text = out.toString('latin1');
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'only CRLF line ends');
    assert.ok(text.endsWith(MESSAGE.replace('see you', 'see\r\nyou')));
    assert.equal(verifyMessage(out, KEYS)[0]!.ok, true);
  });

  test('a message without a body (no blank line) is signed; one without headers is refused', async () => {
    const out = await collect(await dkimSign(source(HEADERS), base({ canonicalization: 'simple/simple' })));
    assert.ok(out.toString('latin1').endsWith(HEADERS));
    assert.equal(verifyMessage(out, KEYS)[0]!.ok, true);
    await assert.rejects(dkimSign(source(`\r\n${BODY}`), base()), {
      name: 'InputError',
      message: /without a From/,
    });
    await assert.rejects(dkimSign(source('From: a@example.com'), base()), {
      name: 'InputError',
      message: /CRLF/,
    });
  });

  test('a header section over 1 MiB is refused without reading on, and the source is closed', async () => {
    let opened: Readable | undefined;
    const huge = function* () {
      yield Buffer.from('From: a@example.com\r\n');
      const line = Buffer.from(`X-Filler: ${'x'.repeat(990)}\r\n`);
      for (let i = 0; i < 5000; i++) yield line;
    };
    await assert.rejects(
      dkimSign(() => {
        opened = Readable.from(huge());
        return opened;
      }, base()),
      { name: 'InputError', message: new RegExp(`larger than ${MAX_HEADER_SECTION_BYTES}`) },
    );
    assert.equal(opened?.destroyed, true);
  });

  test('bad options are refused before the message is opened', async () => {
    let opens = 0;
    const open = () => {
      opens++;
      return Readable.from([Buffer.from(MESSAGE)]);
    };
    await assert.rejects(dkimSign(open, [base(), base({ privateKey: 'nope' })]), { name: 'InputError' });
    await assert.rejects(dkimSign(open, []), { name: 'InputError' });
    assert.equal(opens, 0);
    await assert.rejects(
      dkimSign(() => 'From: a\r\n\r\n' as never, base()),
      {
        name: 'InputError',
        message: /must return a Readable/,
      },
    );
  });

  test('open() returning different bytes the second time fails the stream', async () => {
    for (const [second, part] of [
      [MESSAGE.replace('m1@', 'm2@'), 'header section'],
      [MESSAGE.replace('Bob,', 'Bob!'), 'body'],
      [`${MESSAGE}more\r\n`, 'body'],
      [MESSAGE.slice(0, 40), 'header section'],
    ] as const) {
      let calls = 0;
      const signed = await dkimSign(
        () => Readable.from([Buffer.from(calls++ === 0 ? MESSAGE : second)]),
        base(),
      );
      await assert.rejects(collect(signed), { name: 'InputError', message: new RegExp(`different ${part}`) });
    }
  });

  test('open() may return a promise; destroying the output closes the second source', async () => {
    const sources: Readable[] = [];
    const open = async () => {
      const stream = Readable.from([Buffer.from(MESSAGE)]);
      sources.push(stream);
      return stream;
    };
    const signed = await dkimSign(open, base());
    signed.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sources.length, 2);
    assert.equal(sources[1]!.destroyed, true);
  });
});
