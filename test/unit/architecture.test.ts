// Keeps the dependency arrows of shared/DESIGN.md true: each folder of src/ may import only the folders listed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  protocol: ['core'],
  sasl: ['core'],
  mime: ['core'],
  tls: ['core'],
  net: ['core', 'tls'],
  client: ['protocol', 'sasl', 'tls', 'net', 'core'],
  server: ['protocol', 'sasl', 'tls', 'net', 'core'],
  audit: ['client', 'protocol', 'tls', 'net', 'core'],
  cli: ['index', 'core', 'protocol', 'sasl', 'mime', 'tls', 'net', 'client', 'server', 'audit'],
  index: ['core', 'protocol', 'sasl', 'mime', 'tls', 'net', 'client', 'server', 'audit'],
};
// Only net/ may open sockets (shared/DESIGN.md: "the only place that imports node:net / node:tls").
const SOCKET_MODULES = new Set(['node:net', 'node:tls', 'net', 'tls', 'node:dgram', 'dgram']);
const MAY_USE_SOCKETS = new Set(['net']);
// Pure layers do no I/O at all.
const IO_MODULES = new Set([
  'node:fs',
  'node:fs/promises',
  'fs',
  'node:child_process',
  'node:http',
  'node:https',
]);
const PURE = new Set(['protocol', 'sasl', 'core']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path: string, root = SRC): string {
  const rel = relative(root, path);
  const first = rel.split(/[\\/]/)[0] ?? '';
  // src/index.ts is the layer "index"; an import of it names index.js.
  return first.replace(/\.(ts|js)$/, '');
}

function violations(root = SRC): string[] {
  const found: string[] = [];
  // `import type` is erased at build time: a type-only import of node:tls opens no socket.
  const importRe =
    /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const file of files(root)) {
    const layer = layerOf(file, root);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? '';
      const where = `${relative(root, file)} imports ${spec}`;
      if (spec.startsWith('.')) {
        const target = layerOf(resolve(dirname(file), spec), root);
        if (target !== layer && !(ALLOWED[layer] ?? []).includes(target)) found.push(where);
      } else if (SOCKET_MODULES.has(spec) && !MAY_USE_SOCKETS.has(layer)) {
        found.push(`${where} (only net/ may open sockets)`);
      } else if (IO_MODULES.has(spec) && PURE.has(layer)) {
        found.push(`${where} (${layer}/ is pure, no I/O)`);
      }
    }
  }
  return found;
}

test('every import in src/ follows the dependency arrows of shared/DESIGN.md', () => {
  assert.deepEqual(violations(), []);
});

test('the check itself catches forbidden arrows, sockets outside net/ and I/O in pure layers', () => {
  const root = mkdtempSync(join(tmpdir(), 'postern-arch-'));
  try {
    for (const dir of ['protocol', 'client', 'server', 'sasl']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'protocol/a.ts'), "import { x } from '../client/b.js';\n");
    writeFileSync(
      join(root, 'client/b.ts'),
      "import { y } from '../server/c.js';\nimport net from 'node:net';\n",
    );
    writeFileSync(join(root, 'server/c.ts'), 'export const y = 1;\n');
    writeFileSync(join(root, 'sasl/d.ts'), "import { readFileSync } from 'node:fs';\n");
    assert.deepEqual(violations(root).sort(), [
      'client/b.ts imports ../server/c.js',
      'client/b.ts imports node:net (only net/ may open sockets)',
      'protocol/a.ts imports ../client/b.js',
      'sasl/d.ts imports node:fs (sasl/ is pure, no I/O)',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
