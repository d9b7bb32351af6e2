// detectMode against servers that greet oddly: a greeting split across TCP segments is still a greeting, and
// bytes that are not SMTP are quoted in the error without raw control characters (C0, DEL, C1).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { detectMode } from '../../../src/audit/detect.js';
import { isPosternError } from '../../../src/core/index.js';
import { type ScriptedServer, startScriptedServer } from '../../helpers/scripted-server.js';

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/;

describe('detectMode with odd greetings', () => {
  const servers: ScriptedServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  async function serve(greet: (write: (bytes: string | Buffer) => void) => Promise<void>): Promise<number> {
    const server = await startScriptedServer(async (conn) => {
      await greet((bytes) => conn.write(bytes));
      // Hold the connection until the client hangs up.
      await conn.readLine(10_000).catch(() => undefined);
    });
    servers.push(server);
    return server.port;
  }

  test('a greeting split across segments ("2", a pause, "20 mx ESMTP") is STARTTLS', async () => {
    const port = await serve(async (write) => {
      write('2');
      // The pause is the behaviour under test: the first segment must not be judged alone.
      await delay(300);
      write('20 mx.test ESMTP\r\n');
    });
    assert.deepEqual(await detectMode('127.0.0.1', port, 5_000), {
      mode: 'starttls',
      greeting: '220 mx.test ESMTP',
    });
  });

  test('a greeting whose second half comes after the silence window is still read whole', async () => {
    const port = await serve(async (write) => {
      write('22');
      await delay(1_000);
      write('0 late.test ESMTP\r\n');
    });
    const detected = await detectMode('127.0.0.1', port, 5_000);
    assert.equal(detected.mode, 'starttls');
    assert.equal(detected.greeting, '220 late.test ESMTP');
  });

  test('bytes that are not SMTP: EPROTOCOL, quoted without raw control characters', async () => {
    const hostile = Buffer.from([
      0x9b, 0x33, 0x31, 0x6d, 0x7f, 0x1b, 0x5d, 0x30, 0x3b, 0x58, 0x07, 0x0d, 0x0a,
    ]);
    const port = await serve(async (write) => write(hostile));
    await assert.rejects(detectMode('127.0.0.1', port, 5_000), (err: unknown) => {
      assert.ok(isPosternError(err));
      assert.equal(err.code, 'EPROTOCOL');
      assert.match(err.message, /does not speak SMTP: it sent "\\x9b31m\\x7f\\x1b\]0;X\\x07\\x0d\\x0a"/);
      assert.doesNotMatch(err.message, CONTROLS);
      return true;
    });
  });
});
