/**
 * The benchmarks measure Postern as users run it: the JavaScript that `npm run build` (tsc) writes to dist/,
 * not the TypeScript sources through the tsx loader, whose transform adds work of its own (a `__name` call
 * per closure created, for one). `npm run bench` builds first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Imports `dist/<path>` (e.g. 'index.js', 'mime/dkim/index.js'); T is the type of the matching source module. */
export async function loadBuilt<T>(path: string): Promise<T> {
  const url = new URL(`../dist/${path}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new Error(`dist/${path} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  return (await import(url.href)) as T;
}
