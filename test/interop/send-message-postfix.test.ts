// transport.send(message): a composed, DKIM-signed message in Chinese with attachments goes through Postfix
// (Debian) into its Maildir, then parses the same with mailparser and verifies with python3-dkim.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { createTransport } from '../../src/index.js';
import { dkimRecord, pythonDkimVerify } from '../helpers/dkim-verify.js';
import { peerSkip } from '../helpers/peers.js';
import { type PostfixInstance, startPostfix } from '../helpers/postfix.js';
import { tempDir } from '../helpers/tmp.js';

const skip = peerSkip('postfix', 'dovecot', 'dkim');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const RECORDS = {
  'rsa2026._domainkey.example.test.': dkimRecord(rsa.publicKey),
  'ed2026._domainkey.example.test.': dkimRecord(ed.publicKey),
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('transport.send(message) through Postfix', { skip }, () => {
  let pf: PostfixInstance;
  before(async () => {
    pf = await startPostfix({});
  });
  after(async () => {
    await pf?.stop();
  });

  test('UTF-8 subject, names, text, html and attachments arrive intact and DKIM-verified', async () => {
    const dir = await tempDir('send-message');
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n'),
      Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256)),
    ]);
    const pdfPath = join(dir, '季度报告.pdf');
    writeFileSync(pdfPath, pdf);
    const user = pf.users[0]!;
    const transport = createTransport({
      host: '127.0.0.1',
      port: pf.ports.submission,
      tlsOptions: { ca: readFileSync(pf.caFile, 'utf8'), servername: 'localhost' },
      auth: { user: user.name, pass: user.password },
      dkim: [
        { domainName: 'example.test', keySelector: 'rsa2026', privateKey: rsa.privateKey },
        { domainName: 'example.test', keySelector: 'ed2026', privateKey: ed.privateKey },
      ],
      pool: false,
    });
    const text = '你好，世界！\nשלום עולם\nEmoji: 📬✉️\n' + 'long line '.repeat(120);
    const html = '<p>你好，<b>世界</b>！</p><p dir="rtl">שלום</p><img src="cid:logo@postern">';
    const logo = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const result = await transport.send({
      from: { name: '张伟 (Zhang Wei)', address: 'alice@example.test' },
      to: ['"Bob, Jr." <bob@example.test>', 'frank@example.test'],
      bcc: 'hidden@example.test',
      subject: '季度报告 — Q3 ✅ with a rather long subject line that needs folding across lines',
      text,
      html,
      attachments: [
        { path: pdfPath },
        { filename: 'logo.png', content: logo, cid: 'logo@postern' },
        { filename: 'empty.txt', content: '' },
      ],
    });
    await transport.close();
    assert.deepEqual(
      [...result.accepted].sort(),
      ['bob@example.test', 'frank@example.test', 'hidden@example.test'].sort(),
    );
    assert.match(result.messageId, /^<.+@example\.test>$/);

    const [bobFile] = await pf.waitForMessages('bob', 1);
    const stored = readFileSync(bobFile!);
    // Postfix's Maildir copy has LF endings; DKIM is defined over CRLF.
    const crlf = Buffer.from(stored.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    assert.deepEqual(await pythonDkimVerify(crlf, RECORDS), [
      { ok: true, error: null },
      { ok: true, error: null },
    ]);

    const parsed = await simpleParser(stored, { keepCidLinks: true });
    assert.equal(
      parsed.subject,
      '季度报告 — Q3 ✅ with a rather long subject line that needs folding across lines',
    );
    assert.equal(parsed.from?.value[0]?.name, '张伟 (Zhang Wei)');
    const to = Array.isArray(parsed.to) ? parsed.to.flatMap((a) => a.value) : (parsed.to?.value ?? []);
    assert.deepEqual(
      to.map((a) => [a.name, a.address]),
      [
        ['Bob, Jr.', 'bob@example.test'],
        ['', 'frank@example.test'],
      ],
    );
    assert.equal(
      stored.toString('utf8').includes('hidden@example.test'),
      false,
      'Bcc must not be in the bytes',
    );
    assert.equal(parsed.text?.replace(/\r\n/g, '\n').trimEnd(), text.trimEnd());
    assert.equal(parsed.html, html);
    const files = new Map(parsed.attachments.map((a) => [a.filename ?? '', a]));
    assert.equal(sha256(files.get('季度报告.pdf')!.content), sha256(pdf));
    assert.equal(files.get('季度报告.pdf')!.contentType, 'application/pdf');
    assert.equal(sha256(files.get('logo.png')!.content), sha256(logo));
    assert.equal(files.get('logo.png')!.cid, 'logo@postern');
    assert.equal(files.get('empty.txt')!.content.length, 0);
  });
});
