/**
 * Leaves of the MIME tree: the text and HTML bodies, alternatives, attachments and the calendar event,
 * each with its Content-Type, Content-Transfer-Encoding, Content-Disposition and Content-ID.
 *
 * Encoding: text bodies held in memory get the encoding their bytes allow (transfer-encoding.ts);
 * message/* parts go as 7bit or 8bit when they can, since RFC 2046 §5.2.1 forbids encoding them, and
 * fall back to base64, which every reader handles; everything else, and every streamed body, is base64.
 */
import { Buffer } from 'node:buffer';
import { basename } from 'node:path';
import { InputError } from '../core/errors.js';
import { type ContentInput, type Resolved, resolveContent } from './content.js';
import { contentTypeFor, parseMediaType } from './content-type.js';
import { customFields } from './custom-headers.js';
import { FieldWriter, type HeaderContext, MAX_RAW_WORD } from './header.js';
import { describeType, expectString, invalidArgument, shown } from './input.js';
import type { Alternative, Attachment, Content, IcalEvent } from './message.js';
import { addValueWithParameters, type Parameter, parameterizedField } from './parameters.js';
import type { Body, LeafPart } from './part.js';
import { BufferSource, type ContentSource } from './source.js';
import { encodeText, type TransferEncoding } from './transfer-encoding.js';

export interface PartContext extends HeaderContext {
  readonly eightBitMime: boolean;
}

type Treatment = 'text' | 'message' | 'binary';

interface LeafSpec {
  readonly type: string;
  readonly parameters: readonly Parameter[];
  readonly content: Resolved;
  readonly treatment: Treatment;
  readonly disposition?: 'attachment' | 'inline' | undefined;
  readonly filename?: string | undefined;
  readonly contentId?: string | undefined;
  readonly custom?: string | undefined;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

function encodeBody(spec: LeafSpec, context: PartContext): { encoding: TransferEncoding; body: Body } {
  const { content } = spec;
  if (content.kind === 'source')
    return { encoding: 'base64', body: { kind: 'base64', source: content.source } };
  if (spec.treatment !== 'binary') {
    const encoded = encodeText(content.bytes, context);
    const unencoded = encoded.encoding === '7bit' || encoded.encoding === '8bit';
    if (spec.treatment === 'text' || unencoded) {
      return { encoding: encoded.encoding, body: { kind: 'bytes', bytes: encoded.body } };
    }
  }
  return { encoding: 'base64', body: { kind: 'base64', source: new BufferSource(content.bytes) } };
}

function makeLeaf(spec: LeafSpec, context: PartContext): LeafPart {
  const { encoding, body } = encodeBody(spec, context);
  const parameters = [...spec.parameters];
  if (spec.filename !== undefined && !parameters.some((p) => p.name === 'name')) {
    parameters.push({ name: 'name', value: spec.filename, legacy: true });
  }
  const type = new FieldWriter('Content-Type');
  addValueWithParameters(type, spec.type, parameters);
  let headers = `${type}Content-Transfer-Encoding: ${encoding}\r\n`;
  if (spec.disposition) {
    const filename = spec.filename === undefined ? [] : [{ name: 'filename', value: spec.filename }];
    headers += parameterizedField('Content-Disposition', spec.disposition, filename);
  }
  if (spec.contentId !== undefined) headers += `Content-ID: <${spec.contentId}>\r\n`;
  return { kind: 'leaf', headers: headers + (spec.custom ?? ''), body, eightBit: encoding === '8bit' };
}

function treatmentOf(type: string): Treatment {
  if (type.startsWith('text/')) return 'text';
  if (type.startsWith('message/')) return 'message';
  return 'binary';
}

function checkedObject<T>(value: T, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError('EINVALID_ARGUMENT', `${what} must be an object, not ${describeType(value)}`);
  }
  return value;
}

/** A text/plain or text/html body, charset utf-8. */
export async function textLeaf(
  content: Content,
  subtype: 'plain' | 'html',
  context: PartContext,
  owned: ContentSource[],
): Promise<LeafPart> {
  const what = subtype === 'plain' ? 'the text body' : 'the HTML body';
  const resolved = await resolveContent({ content }, what, owned);
  return makeLeaf(
    {
      type: `text/${subtype}`,
      parameters: [{ name: 'charset', value: 'utf-8' }],
      content: resolved,
      treatment: 'text',
    },
    context,
  );
}

/** The media type and parameters for a part, with charset=utf-8 added for text we encoded from a string. */
function typeFor(input: ContentInput, contentType: string | undefined, fallback: string, what: string) {
  const media = parseMediaType(contentType ?? fallback, `the content type of ${what}`);
  if (media.type.startsWith('multipart/')) {
    throw invalidArgument(
      `${what} cannot be ${media.type}`,
      'the composer builds multipart structure itself',
    );
  }
  const parameters = [...media.parameters];
  const fromString =
    typeof input.content === 'string' && (input.encoding ?? 'utf8').replace('-', '') === 'utf8';
  if (media.type.startsWith('text/') && fromString && !parameters.some((p) => p.name === 'charset')) {
    parameters.push({ name: 'charset', value: 'utf-8' });
  }
  return { type: media.type, parameters };
}

/** One more representation of the body, inside multipart/alternative. */
export async function alternativeLeaf(
  alternative: Alternative,
  index: number,
  context: PartContext,
  owned: ContentSource[],
): Promise<LeafPart> {
  const what = `alternative ${index + 1}`;
  checkedObject(alternative, what);
  const contentType = expectString(alternative.contentType, `the contentType of ${what}`);
  const { type, parameters } = typeFor(alternative, contentType, contentType, what);
  const content = await resolveContent(alternative, what, owned);
  const custom = customFields(alternative.headers, 'part', NO_FIELDS, context);
  return makeLeaf({ type, parameters, content, treatment: treatmentOf(type), custom }, context);
}

function contentIdOf(cid: unknown, what: string): string | undefined {
  if (cid === undefined) return undefined;
  const value = expectString(cid, `the cid of ${what}`)
    .trim()
    .replace(/^<(.*)>$/, '$1');
  if (!/^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(value) || value.length > MAX_RAW_WORD) {
    throw invalidArgument(
      `the cid of ${what} ${shown(String(cid))} is not a content id`,
      'use printable ASCII without spaces or angle brackets, e.g. logo@example.com',
    );
  }
  return value;
}

function filenameOf(attachment: Attachment, what: string): string | undefined {
  if (attachment.filename === false) return undefined;
  if (attachment.filename !== undefined) {
    const name = expectString(attachment.filename, `the filename of ${what}`);
    return name === '' ? undefined : name;
  }
  const content = attachment.content as { path?: unknown } | undefined;
  const path =
    attachment.path ??
    (content && typeof content === 'object' && !(Symbol.asyncIterator in content) ? content.path : undefined);
  return typeof path === 'string' && path !== '' ? basename(path) : undefined;
}

/** An attachment; `related` says it is an inline image for the HTML (it has a cid). */
export async function attachmentLeaf(
  attachment: Attachment,
  index: number,
  context: PartContext,
  owned: ContentSource[],
): Promise<{ leaf: LeafPart; related: boolean }> {
  const label = `attachment ${index + 1}`;
  checkedObject(attachment, label);
  const filename = filenameOf(attachment, label);
  const what = filename ? `${label} (${shown(filename)})` : label;
  const { type, parameters } = typeFor(attachment, attachment.contentType, contentTypeFor(filename), what);
  const contentId = contentIdOf(attachment.cid, what);
  const disposition = attachment.contentDisposition ?? (contentId ? 'inline' : 'attachment');
  if (disposition !== 'attachment' && disposition !== 'inline') {
    throw invalidArgument(`the contentDisposition of ${what} must be 'attachment' or 'inline'`);
  }
  const content = await resolveContent(attachment, what, owned);
  const custom = customFields(attachment.headers, 'part', NO_FIELDS, context);
  const treatment = type.startsWith('message/') ? 'message' : 'binary';
  const leaf = makeLeaf(
    { type, parameters, content, treatment, disposition, filename, contentId, custom },
    context,
  );
  return { leaf, related: contentId !== undefined };
}

/**
 * An iCalendar event: a text/calendar alternative with the iTIP method (what Outlook and Gmail show as an
 * invitation) and the same bytes as an .ics attachment (for clients that only offer a file).
 */
export function icalLeaves(
  event: IcalEvent,
  context: PartContext,
): { alternative: LeafPart; attachment: LeafPart } {
  checkedObject(event, 'icalEvent');
  const method = expectString(event.method ?? 'REQUEST', 'icalEvent.method').toUpperCase();
  if (!/^[A-Z][A-Z-]{0,40}$/.test(method))
    throw invalidArgument(`icalEvent.method ${shown(method)} is not an iTIP method`);
  const content = event.content;
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
    throw invalidArgument('icalEvent.content must be a string or bytes');
  }
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  const filename = expectString(event.filename ?? 'invite.ics', 'icalEvent.filename');
  const memory: Resolved = { kind: 'memory', bytes };
  const alternative = makeLeaf(
    {
      type: 'text/calendar',
      parameters: [
        { name: 'charset', value: 'utf-8' },
        { name: 'method', value: method },
      ],
      content: memory,
      treatment: 'text',
    },
    context,
  );
  const attachment = makeLeaf(
    {
      type: 'application/ics',
      parameters: [],
      content: memory,
      treatment: 'binary',
      disposition: 'attachment',
      filename,
    },
    context,
  );
  return { alternative, attachment };
}
