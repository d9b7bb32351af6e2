/**
 * The message model: what a caller hands to `compose()`. Field names and shapes follow nodemailer's where
 * that is sensible, so code moving over keeps working: addresses as 'Name <user@example.com>' strings,
 * `{ name, address }` objects or arrays of either; attachments with filename, content, path, contentType, cid.
 */
import type { Readable } from 'node:stream';

/** One mailbox: `{ name: 'Ann', address: 'ann@example.com' }`. */
export interface AddressObject {
  readonly name?: string | undefined;
  readonly address: string;
}

/** A named group (RFC 5322 §3.4), e.g. `{ name: 'Team', group: ['a@example.com', 'b@example.com'] }`. */
export interface AddressGroup {
  readonly name: string;
  readonly group: readonly (string | AddressObject)[];
}

/** A string may hold a whole list: 'Ann <ann@example.com>, "Smith, Bob" <bob@example.com>, Team: c@example.com;'. */
export type AddressInput = string | AddressObject | AddressGroup;
export type Addresses = AddressInput | readonly AddressInput[];

/** A file on disk, streamed when the message is (never read whole). */
export interface PathContent {
  readonly path: string;
}

/**
 * A body or attachment. A Readable can only be read once, so it is copied aside (to memory when small,
 * else to a temp file) as it is first read: every `stream()` of the composed message then gives the same bytes.
 */
export type Content = string | Uint8Array | Readable | PathContent;

/** A header value: a string (encoded and folded for you), several values, or a prepared (verbatim) one. */
export type HeaderValue =
  | string
  | readonly string[]
  | { readonly prepared: true; readonly value: string | readonly string[] };

/** Extra header fields: an object, or a list of `{ key, value }` to keep an order or repeat a name. */
export type CustomHeaders =
  | Readonly<Record<string, HeaderValue>>
  | readonly { readonly key: string; readonly value: HeaderValue }[];

export interface Attachment {
  /** Shown to the reader; defaults to the base name of `path`. `false` sends no file name. */
  readonly filename?: string | false | undefined;
  readonly content?: Content | undefined;
  /** A file to stream (the same as `content: { path }`). URLs are not fetched. */
  readonly path?: string | undefined;
  /** How a string `content` is written, e.g. 'base64' or 'hex' (default utf8). */
  readonly encoding?: BufferEncoding | undefined;
  /** Defaults from the file name's extension, else application/octet-stream. */
  readonly contentType?: string | undefined;
  /** Defaults to 'inline' when `cid` is set, else 'attachment'. */
  readonly contentDisposition?: 'attachment' | 'inline' | undefined;
  /** Content-ID for `<img src="cid:...">` in the HTML; such parts go into multipart/related. */
  readonly cid?: string | undefined;
  readonly headers?: CustomHeaders | undefined;
}

/** Another representation of the body (multipart/alternative), e.g. text/x-amp-html or text/markdown. */
export interface Alternative {
  readonly contentType: string;
  readonly content?: Content | undefined;
  readonly path?: string | undefined;
  readonly encoding?: BufferEncoding | undefined;
  readonly headers?: CustomHeaders | undefined;
}

/** An iCalendar invitation: sent as a text/calendar alternative (what Outlook reads) and as an .ics file. */
export interface IcalEvent {
  /** The iTIP method (RFC 5546), default 'REQUEST'. */
  readonly method?: string | undefined;
  readonly content: string | Uint8Array;
  /** The attached file's name, default 'invite.ics'. */
  readonly filename?: string | undefined;
}

/** List-Unsubscribe (RFC 2369) with one-click unsubscription (RFC 8058). */
export interface ListUnsubscribe {
  /** An https URL; with `oneClick` the receiver POSTs "List-Unsubscribe=One-Click" to it. */
  readonly url?: string | undefined;
  /** An address (or mailto: URL) that unsubscribes when written to. */
  readonly mail?: string | undefined;
  /** Adds List-Unsubscribe-Post (RFC 8058); needs `url`, and the message must be DKIM-signed over both. */
  readonly oneClick?: boolean | undefined;
}

/** Mailing-list header fields (RFC 2369, RFC 2919). Each URL may be an https URL or an address (mailto:). */
export interface ListHeaders {
  /** List-Id: 'list.example.com' or `{ id: 'list.example.com', name: 'Our list' }`. */
  readonly id?: string | { readonly id: string; readonly name?: string | undefined } | undefined;
  readonly unsubscribe?: ListUnsubscribe | undefined;
  readonly help?: string | readonly string[] | undefined;
  readonly subscribe?: string | readonly string[] | undefined;
  /** `false` writes "List-Post: NO" (an announcement list). */
  readonly post?: string | readonly string[] | false | undefined;
  readonly owner?: string | readonly string[] | undefined;
  readonly archive?: string | readonly string[] | undefined;
}

export type Priority = 'high' | 'normal' | 'low';

/** The SMTP envelope: MAIL FROM ("" for a bounce) and RCPT TO. */
export interface EnvelopeInput {
  readonly from: string;
  readonly to: string | readonly string[];
}

export interface Message {
  readonly from?: Addresses | undefined;
  /** Needed when `from` has more than one mailbox (RFC 5322 §3.6.2); also the envelope sender. */
  readonly sender?: string | AddressObject | undefined;
  readonly to?: Addresses | undefined;
  readonly cc?: Addresses | undefined;
  /** Envelope recipients only: a Bcc field is never written. */
  readonly bcc?: Addresses | undefined;
  readonly replyTo?: Addresses | undefined;
  readonly subject?: string | undefined;
  readonly text?: Content | undefined;
  readonly html?: Content | undefined;
  readonly attachments?: readonly Attachment[] | undefined;
  readonly alternatives?: readonly Alternative[] | undefined;
  readonly headers?: CustomHeaders | undefined;
  /** '<id@domain>' (the brackets are added when missing); generated on the sender's domain otherwise. */
  readonly messageId?: string | undefined;
  readonly date?: Date | string | number | undefined;
  readonly inReplyTo?: string | undefined;
  readonly references?: string | readonly string[] | undefined;
  readonly priority?: Priority | undefined;
  readonly list?: ListHeaders | undefined;
  readonly icalEvent?: IcalEvent | undefined;
  /** Overrides the envelope derived from sender/from and to/cc/bcc. */
  readonly envelope?: EnvelopeInput | undefined;
  /** A complete RFC 5322 message sent as it is; the other content fields are then ignored. */
  readonly raw?: string | Uint8Array | Readable | PathContent | undefined;
}

export interface ComposeOptions {
  /** The server offers SMTPUTF8: UTF-8 header text goes raw (RFC 6532) and UTF-8 local parts are allowed. */
  readonly smtpUtf8?: boolean | undefined;
  /** The server offers 8BITMIME: text bodies may go as 8bit when their lines are short enough. */
  readonly eightBitMime?: boolean | undefined;
  /** The domain for the Message-ID when the sender's domain cannot be used (an address literal). */
  readonly hostname?: string | undefined;
}

export interface ComposedMessage {
  /** MAIL FROM / RCPT TO: from sender or from, and to + cc + bcc without duplicates, unless given. */
  readonly envelope: { readonly from: string; readonly to: string[] };
  /** With angle brackets, as in the Message-ID field ('' for a raw stream without one). */
  readonly messageId: string;
  /** The exact byte count of `stream()` when every part's size is known up front, for SIZE (RFC 1870). */
  readonly size: number | undefined;
  /** Some header or envelope address holds UTF-8: MAIL FROM needs the SMTPUTF8 parameter. */
  readonly needsSmtpUtf8: boolean;
  /** The bytes contain octets above 127: MAIL FROM needs BODY=8BITMIME. */
  readonly eightBit: boolean;
  /**
   * The message bytes (CRLF line ends, not dot-stuffed). May be called again, for a retry or a second
   * signing pass: every call gives identical bytes.
   */
  stream(): Readable;
  /** Releases temp files and file handles early; they are released when the object is collected anyway. */
  dispose(): Promise<void>;
}
