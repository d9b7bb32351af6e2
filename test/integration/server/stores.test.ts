// Stores: Maildir delivery (tmp → fsync → new, unique names, private files, envelope kept beside), listing
// and reading back, the memory store, durability across kill -9 right after the 250, and graceful shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { MaildirStore, MemoryStore } from '../../../src/server/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { RawClient, sleep, startServer } from './harness.js';

async function send(port: number, body: string, rcpts = ['b@example.org']): Promise<string> {
  const c = await RawClient.connect(port);
  await c.reply();
  await c.command('EHLO client.test');
  await c.command('MAIL FROM:<a@example.com>');
  for (const r of rcpts) await c.command(`RCPT TO:<${r}>`);
  await c.command('DATA');
  const done = await c.command(`${body}\r\n.`);
  assert.equal(done.code, 250, done.text);
  await c.command('QUIT');
  c.close();
  return /queued as (\S+)/.exec(done.text)![1]!;
}

describe('stores', () => {
  test('Maildir: files in new/, unique names, 0600, envelope kept, list() and read()', async () => {
    const dir = join(await tempDir('maildir'), 'Maildir');
    const store = new MaildirStore(dir, { hostname: 'host/with:odd' });
    const s = await startServer({ store: store as never, receivedHeader: false });
    try {
      const firstId = await send(s.port(), 'Subject: one\r\n\r\nfirst');
      await send(s.port(), 'Subject: two\r\n\r\nsecond', ['c@example.org', 'd@example.org']);
      const files = await readdir(join(dir, 'new'));
      assert.equal(files.length, 2);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      for (const file of files) {
        assert.match(file, /^\d+\.M\d+P\d+Q[0-9A-Z]{12}R[0-9a-f]{8}\.host\\057with\\072odd$/);
        assert.equal((await stat(join(dir, 'new', file))).mode & 0o777, 0o600);
      }
      const listed = await store.list();
      assert.equal(listed.length, 2);
      assert.equal(listed[0]!.id, firstId, 'the store id is the queue id of the 250');
      assert.deepEqual(
        listed.map((m) => m.envelope.rcptTo.map((r) => r.address)),
        [['b@example.org'], ['c@example.org', 'd@example.org']],
      );
      assert.equal(listed[1]!.envelope.mailFrom.address, 'a@example.com');
      assert.equal((await store.read(listed[0]!.id)).toString(), 'Subject: one\r\n\r\nfirst\r\n');
      assert.equal(listed[0]!.size, 'Subject: one\r\n\r\nfirst\r\n'.length);
      assert.equal(await readFile(listed[0]!.path!, 'utf8'), 'Subject: one\r\n\r\nfirst\r\n');
      await assert.rejects(store.read('../../etc/passwd'));
      await assert.rejects(store.read('nope'));
    } finally {
      await s.close();
    }
  });

  test('MemoryStore: list() and read()', async () => {
    const store = new MemoryStore();
    const s = await startServer({ store, receivedHeader: false });
    try {
      const id = await send(s.port(), 'Subject: mem\r\n\r\nx');
      const [info] = await store.list();
      assert.equal(info?.id, id);
      assert.equal((await store.read(id)).toString(), 'Subject: mem\r\n\r\nx\r\n');
    } finally {
      await s.close();
    }
  });

  test('MemoryStore full: 452 4.3.1 after the data, 552 5.3.4 for what can never fit; the session goes on', async () => {
    const store = new MemoryStore({ maxMessages: 1, maxBytes: 4096 });
    const s = await startServer({ store, receivedHeader: false });
    const c = await RawClient.connect(s.port());
    try {
      await c.reply();
      await c.command('EHLO client.test');
      const transaction = async (body: string) => {
        assert.equal((await c.command('MAIL FROM:<a@example.com>')).code, 250);
        assert.equal((await c.command('RCPT TO:<b@example.org>')).code, 250);
        assert.equal((await c.command('DATA')).code, 354);
        const done = await c.command(`${body}\r\n.`);
        return `${done.code} ${done.text}`;
      };
      assert.match(await transaction('Subject: one\r\n\r\nfirst'), /^250 /);
      assert.equal(await transaction('Subject: two\r\n\r\nsecond'), '452 4.3.1 Insufficient system storage');
      assert.equal((await c.command('NOOP')).code, 250);
      store.clear();
      // 200 KB: several reads, so the store refuses while the rest is still arriving (and is dropped).
      const big = `Subject: big\r\n\r\n${`${'x'.repeat(76)}\r\n`.repeat(2600)}`;
      assert.equal(await transaction(big), '552 5.3.4 Message too big for system');
      assert.match(await transaction('Subject: three\r\n\r\nthird'), /^250 /);
      assert.deepEqual(
        store.messages.map((m) => m.data.toString()),
        ['Subject: three\r\n\r\nthird\r\n'],
      );
    } finally {
      c.close();
      await s.close();
    }
  });

  test('durability: kill -9 right after the 250, and the message is in new/', async () => {
    const dir = join(await tempDir('durable'), 'Maildir');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'durability-child.ts'), dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const port = Number(line.toString().trim());
      const c = await RawClient.connect(port);
      await c.reply();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<a@example.com>');
      await c.command('RCPT TO:<b@example.org>');
      await c.command('DATA');
      c.write(`Subject: durable\r\n\r\n${'line\r\n'.repeat(1000)}.\r\n`);
      const done = await c.reply(10_000);
      child.kill('SIGKILL');
      assert.equal(done.code, 250);
      await once(child, 'exit');
      const files = await readdir(join(dir, 'new'));
      assert.equal(files.length, 1);
      const text = await readFile(join(dir, 'new', files[0]!), 'utf8');
      assert.ok(text.endsWith(`Subject: durable\r\n\r\n${'line\r\n'.repeat(1000)}`));
      c.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('graceful close: idle sessions get 421 4.3.2, a message in progress is finished', async () => {
    const s = await startServer({ receivedHeader: false });
    const idle = await RawClient.connect(s.port());
    await idle.reply();
    await idle.command('EHLO idle.test');
    const busy = await RawClient.connect(s.port());
    await busy.reply();
    await busy.command('EHLO busy.test');
    await busy.command('MAIL FROM:<a@example.com>');
    await busy.command('RCPT TO:<b@example.org>');
    await busy.command('DATA');
    busy.write('Subject: in flight\r\n\r\n');
    const closing = s.server.close({ graceful: true, timeout: 3000 });
    await sleep(100);
    assert.match(idle.received, /421 4\.3\.2 /);
    busy.write('the end\r\n.\r\n');
    assert.equal((await busy.reply()).code, 250);
    assert.equal((await busy.reply()).code, 421, 'and then the session ends');
    await closing;
    assert.equal(s.store.messages.length, 1);
  });
});
