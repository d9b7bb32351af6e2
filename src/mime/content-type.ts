/**
 * Media types (RFC 2045 §5, RFC 6838): guessed from a file name's extension with a built-in table of the
 * common ones (no dependency, no system file), and parsed and checked when the caller gives one.
 */
import { assertOneLine, invalidArgument, shown } from './input.js';
import type { Parameter } from './parameters.js';

const TYPES: Readonly<Record<string, string>> = {
  // text
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  htm: 'text/html',
  html: 'text/html',
  css: 'text/css',
  ics: 'text/calendar',
  ifb: 'text/calendar',
  vcf: 'text/vcard',
  vcard: 'text/vcard',
  rtf: 'application/rtf',
  xml: 'application/xml',
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  js: 'text/javascript',
  mjs: 'text/javascript',
  // documents
  pdf: 'application/pdf',
  doc: 'application/msword',
  dot: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  epub: 'application/epub+zip',
  pages: 'application/vnd.apple.pages',
  numbers: 'application/vnd.apple.numbers',
  key: 'application/vnd.apple.keynote',
  // mail
  eml: 'message/rfc822',
  msg: 'application/vnd.ms-outlook',
  mbox: 'application/mbox',
  // images
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpe: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  heif: 'image/heif',
  bmp: 'image/bmp',
  ico: 'image/vnd.microsoft.icon',
  svg: 'image/svg+xml',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  // audio and video
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/opus',
  flac: 'audio/flac',
  mid: 'audio/midi',
  midi: 'audio/midi',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  ogv: 'video/ogg',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  // archives
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  zst: 'application/zstd',
  '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar',
  tar: 'application/x-tar',
  // fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  // keys and certificates
  pem: 'application/x-pem-file',
  crt: 'application/x-x509-ca-cert',
  cer: 'application/pkix-cert',
  p7s: 'application/pkcs7-signature',
  p7m: 'application/pkcs7-mime',
  asc: 'application/pgp-signature',
  gpg: 'application/pgp-encrypted',
  // other
  wasm: 'application/wasm',
  apk: 'application/vnd.android.package-archive',
  dmg: 'application/x-apple-diskimage',
  exe: 'application/vnd.microsoft.portable-executable',
  bin: 'application/octet-stream',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The media type for a file name, from its extension (case-insensitive); application/octet-stream when
 * unknown.
 *
 * @example contentTypeFor('测试报告.PDF') // => 'application/pdf'
 */
export function contentTypeFor(filename: string | undefined): string {
  if (!filename) return DEFAULT_CONTENT_TYPE;
  const dot = filename.lastIndexOf('.');
  if (dot === -1) return DEFAULT_CONTENT_TYPE;
  return TYPES[filename.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

export interface MediaType {
  /** Lower case, e.g. 'text/plain'. */
  readonly type: string;
  readonly parameters: readonly Parameter[];
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

/** Splits at ";" outside quoted strings. */
function splitParameters(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && quoted) {
      current += ch + (value[++i] ?? '');
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/**
 * Parses a caller's media type ('text/plain; charset=iso-8859-1'). The parameters are kept and written
 * again by our own encoder, so they cannot smuggle syntax in.
 */
export function parseMediaType(value: string, what = 'the content type'): MediaType {
  assertOneLine(value, what);
  const [head = '', ...rest] = splitParameters(value);
  const type = head.trim().toLowerCase();
  const [main, sub, extra] = type.split('/');
  if (!main || !sub || extra !== undefined || !TOKEN.test(main) || !TOKEN.test(sub)) {
    throw invalidArgument(
      `${what} ${shown(value)} is not a media type`,
      'write it as type/subtype, e.g. image/png',
    );
  }
  const parameters = rest
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
      let raw = eq === -1 ? '' : part.slice(eq + 1).trim();
      if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2)
        raw = raw.slice(1, -1).replace(/\\(.)/g, '$1');
      if (!TOKEN.test(name) || name.includes('*')) {
        throw invalidArgument(`${what} ${shown(value)} has a malformed parameter ${shown(part.trim())}`);
      }
      return { name, value: raw };
    });
  return { type, parameters };
}
