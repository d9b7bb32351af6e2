/**
 * Mailing-list fields: List-Id (RFC 2919), List-Help/-Subscribe/-Unsubscribe/-Post/-Owner/-Archive
 * (RFC 2369: each a comma-separated list of URLs in angle brackets) and one-click unsubscription
 * (RFC 8058: "List-Unsubscribe-Post: List-Unsubscribe=One-Click" next to an https URL).
 *
 * RFC 8058 §4 also wants a DKIM signature that covers both List-Unsubscribe fields: a message with
 * them must be signed with both in the signed header list.
 */
import { InputError } from '../core/errors.js';
import { addPhrase } from './address.js';
import { FieldWriter, type HeaderContext, MAX_RAW_WORD } from './header.js';
import { assertOneLine, invalidArgument, shown } from './input.js';
import type { ListHeaders } from './message.js';

const LIST_ID = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)+$/;

type Schemes = 'web-or-mail' | 'https' | 'mail';

/** "<https://...>" or "<mailto:...>" from a URL or a bare address. */
function listUrl(value: unknown, what: string, schemes: Schemes): string {
  if (typeof value !== 'string') throw invalidArgument(`${what} must be a string`);
  assertOneLine(value, what);
  let text = value.trim().replace(/^<(.*)>$/, '$1');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    if (!text.includes('@')) {
      throw invalidArgument(`${what} ${shown(value)} is neither a URL nor an address`);
    }
    text = `mailto:${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidArgument(`${what} ${shown(value)} is not a valid URL`);
  }
  const allowed =
    schemes === 'https' ? ['https:'] : schemes === 'mail' ? ['mailto:'] : ['https:', 'http:', 'mailto:'];
  if (!allowed.includes(url.protocol)) {
    throw invalidArgument(
      `${what} ${shown(value)} must use ${allowed.map((s) => s.slice(0, -1)).join(' or ')}`,
      schemes === 'https' ? 'RFC 8058 one-click unsubscription needs an https URL' : undefined,
    );
  }
  if (url.href.length > MAX_RAW_WORD) throw invalidArgument(`${what} is too long for a header field`);
  return `<${url.href}>`;
}

function urlListField(name: string, urls: readonly string[]): string {
  const field = new FieldWriter(name);
  urls.forEach((url, i) => {
    field.add(' ', i < urls.length - 1 ? `${url},` : url);
  });
  return field.toString();
}

function listOf(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

function listIdField(id: NonNullable<ListHeaders['id']>, context: HeaderContext): string {
  const { id: value, name } = typeof id === 'string' ? { id, name: undefined } : id;
  if (typeof value !== 'string') throw invalidArgument('list.id must be a string or { id, name }');
  assertOneLine(value, 'list.id');
  const bare = value.trim().replace(/^<(.*)>$/, '$1');
  if (!LIST_ID.test(bare)) {
    throw invalidArgument(
      `list.id ${shown(value)} is not a list identifier`,
      'write it like a domain: news.example.com',
    );
  }
  const field = new FieldWriter('List-Id');
  if (name) {
    assertOneLine(name, 'the list name');
    addPhrase(field, name, context);
  }
  field.add(' ', `<${bare}>`);
  return field.toString();
}

/** The list fields and their lower-case names (so custom headers cannot write them twice). */
export function listFields(
  list: ListHeaders | undefined,
  context: HeaderContext,
): { fields: string; names: Set<string> } {
  const names = new Set<string>();
  if (list === undefined) return { fields: '', names };
  if (typeof list !== 'object' || list === null) throw invalidArgument('list must be an object');
  let fields = '';
  const add = (name: string, field: string): void => {
    names.add(name.toLowerCase());
    fields += field;
  };
  if (list.id !== undefined) add('List-Id', listIdField(list.id, context));
  const simple: [keyof ListHeaders, string][] = [
    ['help', 'List-Help'],
    ['subscribe', 'List-Subscribe'],
    ['owner', 'List-Owner'],
    ['archive', 'List-Archive'],
  ];
  for (const [key, name] of simple) {
    const value = list[key] as string | readonly string[] | undefined;
    if (value !== undefined) {
      add(
        name,
        urlListField(
          name,
          listOf(value).map((v) => listUrl(v, `list.${key}`, 'web-or-mail')),
        ),
      );
    }
  }
  if (list.post === false) add('List-Post', 'List-Post: NO\r\n');
  else if (list.post !== undefined) {
    add(
      'List-Post',
      urlListField(
        'List-Post',
        listOf(list.post).map((v) => listUrl(v, 'list.post', 'web-or-mail')),
      ),
    );
  }
  const unsubscribe = list.unsubscribe;
  if (unsubscribe !== undefined) {
    const urls: string[] = [];
    if (unsubscribe.url !== undefined) urls.push(listUrl(unsubscribe.url, 'list.unsubscribe.url', 'https'));
    if (unsubscribe.mail !== undefined) urls.push(listUrl(unsubscribe.mail, 'list.unsubscribe.mail', 'mail'));
    if (urls.length === 0) throw invalidArgument('list.unsubscribe needs a url or a mail address');
    add('List-Unsubscribe', urlListField('List-Unsubscribe', urls));
    if (unsubscribe.oneClick) {
      if (unsubscribe.url === undefined) {
        throw new InputError(
          'EINVALID_ARGUMENT',
          'one-click unsubscription (RFC 8058) needs list.unsubscribe.url',
          {
            hint: 'add an https URL that accepts a POST of "List-Unsubscribe=One-Click"',
          },
        );
      }
      add('List-Unsubscribe-Post', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n');
    }
  }
  return { fields, names };
}
