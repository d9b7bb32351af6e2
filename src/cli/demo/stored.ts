/**
 * The last message as the server stored it in the Maildir: the whole header (Received with the TLS version and
 * cipher first) and the first lines of the body.
 */
import { relative } from 'node:path';
import type { MaildirStore } from '../../server/index.js';
import type { Output } from '../output.js';
import { formatBytes } from '../transcript.js';

const BODY_LINES = 12;

/** Prints the newest message of `store`; returns how many messages the store holds. */
export async function showLastStored(store: MaildirStore, output: Output, baseDir: string): Promise<number> {
  const listed = await store.list();
  const last = listed.at(-1);
  if (!last) {
    output.print('  (the Maildir is empty)');
    return 0;
  }
  const text = (await store.read(last.id)).toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const header = split === -1 ? text : text.slice(0, split);
  const body = split === -1 ? [] : text.slice(split + 4).split('\r\n');
  const s = output.out;
  output.print(s.dim(`  ${last.path ? relative(baseDir, last.path) : last.id} (${formatBytes(last.size)})`));
  for (const line of header.split('\r\n')) {
    const name = /^([^\s:]+):(.*)$/.exec(line);
    output.print(name ? `  ${s.cyan(`${name[1]}:`)}${name[2]}` : `  ${line}`);
  }
  output.print('');
  for (const line of body.slice(0, BODY_LINES)) output.print(`  ${line}`);
  const rest = body.length - BODY_LINES;
  if (rest > 0) output.print(s.dim(`  … ${rest} more line${rest === 1 ? '' : 's'}`));
  return listed.length;
}
