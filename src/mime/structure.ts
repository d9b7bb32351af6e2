/**
 * The MIME structure of a message (RFC 2046 §5.1):
 *
 *   text only                → text/plain (a single part; likewise HTML only)
 *   text + HTML              → multipart/alternative [text, html]
 *   HTML + cid images        → multipart/related [html, images] in the HTML's place (RFC 2387)
 *   more alternatives, iCal  → appended to multipart/alternative, after the HTML (last = preferred)
 *   attachments              → multipart/mixed [body, attachments], outermost
 *
 * Inline images without an HTML body have nothing to be related to; they become ordinary (inline) parts
 * of multipart/mixed. A message with no body at all gets an empty text/plain part.
 */
import { boundaryAvoiding } from './boundary.js';
import { type Parameter, parameterizedField } from './parameters.js';
import { type LeafPart, leavesOf, type MultiPart, type Part } from './part.js';

export interface Bodies {
  readonly text?: LeafPart | undefined;
  readonly html?: LeafPart | undefined;
  /** Inline parts referenced from the HTML by cid. */
  readonly related: readonly LeafPart[];
  readonly alternatives: readonly LeafPart[];
  readonly attachments: readonly LeafPart[];
}

function multipart(subtype: string, children: readonly Part[], extra: readonly Parameter[] = []): MultiPart {
  const raw = children
    .flatMap((child) => [...leavesOf(child)])
    .flatMap((leaf) => (leaf.body.kind === 'bytes' ? [leaf.body.bytes] : []));
  const boundary = boundaryAvoiding(raw);
  const headers = parameterizedField('Content-Type', `multipart/${subtype}`, [
    { name: 'boundary', value: boundary },
    ...extra,
  ]);
  return { kind: 'multipart', headers, boundary, children };
}

/** Arranges the leaves into the tree; `emptyText` is the body of a message that has none. */
export function arrange(bodies: Bodies, emptyText: LeafPart): Part {
  const { text, html } = bodies;
  const related = html ? bodies.related : [];
  const loose = html ? [] : bodies.related;
  const htmlPart =
    html && related.length > 0
      ? multipart('related', [html, ...related], [{ name: 'type', value: 'text/html' }])
      : html;
  const versions = [text, htmlPart, ...bodies.alternatives].filter(
    (part): part is Part => part !== undefined,
  );
  const attachments = [...loose, ...bodies.attachments];
  let body: Part | undefined;
  if (versions.length > 1) body = multipart('alternative', versions);
  else if (versions.length === 1) body = versions[0];
  else if (attachments.length === 0) body = emptyText;
  if (attachments.length === 0) return body!;
  return multipart('mixed', body ? [body, ...attachments] : attachments);
}
