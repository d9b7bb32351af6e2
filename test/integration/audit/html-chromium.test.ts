// The HTML report in a real browser: Debian's headless Chromium renders fixture reports from file:// (it is kept
// off the network: no resolver, a dead loopback proxy, no background services), screenshots and a print-to-PDF
// are kept under test-artifacts/audit/, and the hostile report's DOM shows that nothing in it became markup.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { renderDomainHtml, renderHtml } from '../../../src/audit/render-html.js';
import { buildReport } from '../../../src/audit/report.js';
import { peerSkip } from '../../helpers/peers.js';
import { removeTempDir, tempDir } from '../../helpers/tmp.js';
import { domainReport, hostileParts, parts, showcaseParts } from '../../unit/audit/report-fixtures.js';

const ROOT = join(import.meta.dirname, '../../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'audit');
const WIDTH = 1200;
const HEIGHT = 2000;
const skip = peerSkip('chromium');

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

/** One headless Chromium run on a local file, with its own profile dir and no way out to the network. */
function chromium(dir: string, name: string, page: string, args: readonly string[]): Promise<Run> {
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--no-first-run',
    '--no-default-browser-check',
    '--hide-scrollbars',
    // Belt and braces: no name resolves, and any request that still tries goes to a closed loopback port.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--proxy-server=127.0.0.1:9',
    `--user-data-dir=${join(dir, `profile-${name}`)}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    ...args,
    pathToFileURL(page).href,
  ];
  return new Promise((resolve, reject) => {
    execFile('chromium', argv, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium ${name} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Width and height from a PNG's IHDR chunk (bytes 16–23), after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'PNG signature',
  );
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('HTML report in headless Chromium', { skip }, () => {
  let dir = '';
  const pages: Record<string, string> = {};

  before(async () => {
    dir = await tempDir('chromium');
    await mkdir(ARTIFACTS, { recursive: true });
    const docs = {
      showcase: renderHtml(buildReport(showcaseParts())),
      modern: renderHtml(buildReport(parts({ profile: 'intermediate' }))),
      hostile: renderHtml(buildReport(hostileParts())),
      domain: renderDomainHtml(domainReport()),
      blank:
        '<!doctype html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>',
    };
    for (const [name, html] of Object.entries(docs)) {
      pages[name] = join(ARTIFACTS, `audit-report-${name}.html`);
      await writeFile(pages[name], html);
    }
  });

  after(async () => {
    if (dir) await removeTempDir(dir);
  });

  test('screenshots of a C report, an A+ report and a domain page are full-size, non-blank and differ', async () => {
    const names = ['blank', 'showcase', 'modern', 'domain'];
    const shots = names.map((name) => join(ARTIFACTS, `audit-report-${name}.png`));
    await Promise.all(
      names.map((name, i) => chromium(dir, name, pages[name]!, [`--screenshot=${shots[i]}`])),
    );
    const [blank, showcase, modern, domain] = await Promise.all(shots.map((f) => readFile(f)));
    for (const png of [blank!, showcase!, modern!, domain!]) {
      assert.deepEqual(pngSize(png), { width: WIDTH, height: HEIGHT });
    }
    // A white page compresses to almost nothing; a rendered report with text, tables and colour does not.
    assert.ok(blank!.length < 30_000, `blank page PNG is ${blank!.length} bytes`);
    for (const [name, png] of [
      ['showcase', showcase!],
      ['modern', modern!],
      ['domain', domain!],
    ] as const) {
      assert.ok(png.length > 100_000, `${name} PNG is only ${png.length} bytes`);
      assert.ok(png.length > blank!.length * 5, `${name} PNG is not much larger than a blank page`);
    }
    assert.notDeepEqual(showcase, modern);
    assert.notDeepEqual(showcase, domain);
  });

  test('it prints: a multi-page PDF', async () => {
    const pdf = join(ARTIFACTS, 'audit-report-showcase.pdf');
    await chromium(dir, 'pdf', pages['showcase']!, [`--print-to-pdf=${pdf}`, '--no-pdf-header-footer']);
    const bytes = await readFile(pdf);
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const pageCount = (bytes.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    assert.ok(pageCount >= 2, `${pageCount} pages`);
    assert.ok((await stat(pdf)).size > 20_000);
  });

  test('hostile strings in the report stay text in the browser', async () => {
    const { stdout } = await chromium(dir, 'dom', pages['hostile']!, ['--dump-dom']);
    assert.match(
      stdout,
      /<title>Postern audit: mail\.example\.com:587 — grade F<\/title>/,
      'the title was not changed',
    );
    assert.ok(!/<script/i.test(stdout), 'no script element in the DOM');
    assert.ok(!/<img/i.test(stdout), 'no img element in the DOM');
    assert.ok(
      stdout.includes('&lt;script&gt;document.title="pwned"&lt;/script&gt;'),
      'the markup shows as text',
    );
  });
});
