import { isAscii } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, type Phase, PosternError, ProtocolError, SmtpReplyError } from '../core/index.js';
import * as commands from '../protocol/commands.js';
import {
  type Capabilities,
  DotStuffer,
  dotStuff,
  formatReply,
  type MailParams,
  type RcptParams,
  type Reply,
  toWireAddress,
  validateReversePath,
} from '../protocol/index.js';
import type { Timeouts } from './options.js';
import { authRejection, rejection } from './reply-errors.js';
import type { Wire } from './wire.js';

/** Who a message is from and to, plus the SMTP extensions it asks for. */
export interface Envelope {
  /** Reverse-path; '' is the null sender (bounces). */
  readonly from: string;
  readonly to: readonly string[];
  /** RFC 3461 delivery status notifications; ignored when the server does not offer DSN. */
  readonly dsn?: {
    readonly ret?: 'FULL' | 'HDRS';
    readonly envid?: string;
    readonly notify?: readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[] | 'NEVER';
    /** Send ORCPT with each recipient's own address. */
    readonly orcpt?: boolean;
  };
  /** RFC 8689: fail rather than send without TLS the whole way; an error when the server lacks REQUIRETLS. */
  readonly requireTls?: boolean;
  /** Force SMTPUTF8 (the message has raw UTF-8 headers, RFC 6532). Detected for Buffer and string sources. */
  readonly smtpUtf8?: boolean;
  /** Override BODY=; by default 8BITMIME is declared when a Buffer/string source has 8-bit bytes. */
  readonly body?: '7BIT' | '8BITMIME';
  /** Message size for SIZE= when the source is a stream of known length. */
  readonly size?: number;
}

/** A message: bytes, text (sent as UTF-8), or a stream that is never buffered whole. */
export type MessageSource = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string>;

export interface SendOptions {
  /** Fail (and send nothing) unless every recipient is accepted. Default false: send to those accepted. */
  readonly requireAllRecipients?: boolean;
  readonly chunking?: boolean;
  readonly pipelining?: boolean;
}

export interface RejectedRecipient {
  readonly address: string;
  readonly reply: Reply;
}

export interface SendResult {
  readonly accepted: readonly string[];
  readonly rejected: readonly RejectedRecipient[];
  /** The server's reply to the end of data. */
  readonly reply: Reply;
  /** The queue id the server reported, when it has a recognisable form. */
  readonly queueId: string | undefined;
  /** Message bytes written (after dot-stuffing or framing). */
  readonly bytes: number;
  readonly method: 'DATA' | 'BDAT';
  readonly timings: { readonly envelope: number; readonly data: number; readonly total: number };
}

/** What a transaction needs to know of its session. */
export interface TransactionContext {
  readonly host: string;
  readonly port: number;
  readonly capabilities: Capabilities;
  /** The connection is encrypted. */
  readonly tls: unknown;
}

interface PrepareOptions extends SendOptions {
  readonly chunking: boolean;
  readonly pipelining: boolean;
}

interface TransactOptions {
  readonly timeouts: Required<Timeouts>;
  /** Send RSET first: an earlier transaction failed or is still in flight on this connection. */
  readonly prefixRset?: boolean;
  /**
   * Called once all of this transaction's bytes are written and its replies reserved; `ended` when they
   * ended a message accepted with 354, which leaves the server between transactions whatever it replies.
   */
  readonly onWritten?: (ended?: boolean) => void;
  /** Called once the pipelined envelope is written (see SessionSendOptions). */
  readonly onStarted?: () => void;
  /** AUTH to send at the head of the group (RFC 4954 §4); the message goes out only after its 235. */
  readonly auth?: { readonly mechanism: string; readonly line: string; readonly shown: string } | undefined;
  /** The server answered the pipelined AUTH with a challenge: do not pipeline AUTH with it again. */
  readonly onAuthRefused?: () => void;
}

/** BDAT chunks are coalesced to at least this size so a trickling stream does not cost a command per byte. */
const MIN_CHUNK = 64 * 1024;

/** A transaction checked against the server's capabilities, its commands built, nothing written yet. */
export interface PreparedTransaction {
  readonly label: string;
  readonly envelope: Envelope;
  readonly source: MessageSource;
  readonly plan: MessagePlan;
  readonly mailLine: string;
  readonly rcptLines: readonly string[];
  readonly recipients: readonly string[];
  readonly useBdat: boolean;
  readonly pipelined: boolean;
  /** The data command (DATA, or an inline BDAT) rides in the same write as MAIL and RCPT. */
  readonly eager: boolean;
  /** DATA itself rides in that write: the message waits for its 354, so nothing of it leaves before. */
  readonly dataInGroup: boolean;
  readonly requireAllRecipients: boolean;
  /** A message in memory, ready to write after 354: dot-stuffed and terminated. */
  readonly stuffed: Buffer | undefined;
}

/**
 * Checks an envelope and message against what the server offers and builds the commands, without writing:
 * a transaction waiting for its turn on a busy connection does this work while it waits.
 */
export function prepareTransaction(
  info: TransactionContext,
  envelope: Envelope,
  source: MessageSource,
  options: PrepareOptions,
): PreparedTransaction {
  const caps = info.capabilities;
  const label = `${info.host}:${info.port}`;
  const plan = planMessage(source, envelope);

  if (envelope.to.length === 0) {
    throw new InputError('ENO_RECIPIENTS', 'the envelope has no recipients', {
      hint: 'give at least one `to`',
    });
  }
  validateReversePath(envelope.from, { smtpUtf8: caps.smtpUtf8 });
  const wireFrom =
    envelope.from === ''
      ? { address: '', needsSmtpUtf8: false }
      : toWireAddress(envelope.from, { smtpUtf8: caps.smtpUtf8 });
  const wireTo = envelope.to.map((to) => ({
    original: to,
    ...toWireAddress(to, { smtpUtf8: caps.smtpUtf8 }),
  }));
  const needsUtf8 =
    envelope.smtpUtf8 === true ||
    plan.utf8Headers ||
    wireFrom.needsSmtpUtf8 ||
    wireTo.some((t) => t.needsSmtpUtf8);
  if (needsUtf8 && !caps.smtpUtf8) {
    throw new InputError('ESMTPUTF8_REQUIRED', `the message needs SMTPUTF8 but ${label} does not offer it`, {
      hint: plan.utf8Headers
        ? 'the message has raw UTF-8 headers; encode them (RFC 2047) or use a server with SMTPUTF8'
        : 'use ASCII addresses (an IDN domain is converted automatically, a UTF-8 local part cannot be)',
    });
  }
  if (envelope.requireTls && (!caps.requireTls || !info.tls)) {
    throw new InputError(
      'EREQUIRETLS_UNSUPPORTED',
      info.tls
        ? `the message requires REQUIRETLS but ${label} does not offer it`
        : 'the message requires REQUIRETLS but the connection is not encrypted',
      { hint: 'RFC 8689 forbids sending it any other way; use a server that supports REQUIRETLS' },
    );
  }
  const size = envelope.size ?? plan.size;
  if (size !== undefined && caps.sizeLimit !== undefined && size > caps.sizeLimit) {
    throw new InputError(
      'ESIZE_EXCEEDED',
      `the message (${size} bytes) exceeds ${label}'s limit of ${caps.sizeLimit} bytes`,
      {
        hint: 'send a smaller message or attachments by link',
      },
    );
  }

  const mailParams: MailParams = {
    size: caps.size && size !== undefined ? size : undefined,
    body: envelope.body
      ? caps.eightBitMime
        ? envelope.body
        : undefined
      : plan.eightBit && caps.eightBitMime
        ? '8BITMIME'
        : undefined,
    smtpUtf8: needsUtf8 || undefined,
    requireTls: envelope.requireTls || undefined,
    ret: caps.dsn ? envelope.dsn?.ret : undefined,
    envid: caps.dsn ? envelope.dsn?.envid : undefined,
  };
  const rcptParams = (original: string): RcptParams => ({
    smtpUtf8: needsUtf8,
    ...(caps.dsn && envelope.dsn
      ? { notify: envelope.dsn.notify, orcpt: envelope.dsn.orcpt ? original : undefined }
      : {}),
  });
  const useBdat = options.chunking && caps.chunking;
  const pipelined = options.pipelining && caps.pipelining;
  const requireAllRecipients = options.requireAllRecipients === true;
  // With PIPELINING the data command rides in the same write as MAIL and RCPT (RFC 2920), unless the
  // caller wants all-or-nothing: then we must see every RCPT reply before committing to send.
  const eager = pipelined && !requireAllRecipients;
  return {
    label,
    envelope,
    source,
    plan,
    mailLine: commands.mailFrom(wireFrom.address, mailParams),
    rcptLines: wireTo.map((t) => commands.rcptTo(t.address, rcptParams(t.original))),
    recipients: wireTo.map((t) => t.original),
    useBdat,
    pipelined,
    eager,
    dataInGroup: eager && !useBdat,
    requireAllRecipients,
    stuffed: plan.buffer && !useBdat ? dotStuff(plan.buffer) : undefined,
  };
}

/** Runs one prepared mail transaction on an established session. */
export async function transact(
  wire: Wire,
  prepared: PreparedTransaction,
  options: TransactOptions,
): Promise<SendResult> {
  const started = Date.now();
  const { label, plan, source, mailLine, rcptLines, useBdat, pipelined, eager, dataInGroup } = prepared;
  const inlineBdat = useBdat && eager && plan.buffer !== undefined;

  const t = options.timeouts;
  let sentBytes = 0;
  // Every reply is reserved right after its command is written, so another transaction may follow on the
  // same connection as soon as this one's bytes are out (onWritten), before its replies arrive.
  let authReply: Promise<Reply> | undefined;
  let rsetReply: Promise<Reply> | undefined;
  let mailReply: Promise<Reply>;
  let rcptReplies: Promise<Reply>[] = [];
  let dataReply: Promise<Reply> | undefined;
  let inlineFinal: Promise<Reply> | undefined;
  /** The message, written from inside the reply parser the moment 354 arrived (see below). */
  let early:
    | { readonly bytes: number; readonly written: Promise<void> | undefined; final: Promise<Reply> }
    | undefined;
  let earlyError: unknown;
  if (pipelined) {
    const rset = options.prefixRset ? commands.rset() : '';
    const group = rset + mailLine + rcptLines.join('') + (dataInGroup ? commands.data() : '');
    const auth = options.auth;
    wire.cork();
    if (auth) wire.write(auth.line + group, auth.shown + group);
    else wire.write(group);
    // What the replies said so far, seen synchronously as they are parsed.
    let envelopeOk = true;
    let anyAccepted = false;
    const expect250 = (r: Reply) => {
      if (r.code !== 250) envelopeOk = false;
    };
    if (auth)
      authReply = wire.read('auth', t.command, undefined, (r) => {
        if (r.code !== 235) envelopeOk = false;
      });
    if (rset) rsetReply = wire.read('rset', t.command, undefined, expect250);
    mailReply = wire.read('mail', t.command, undefined, expect250);
    rcptReplies = rcptLines.map(() =>
      wire.read('rcpt', t.command, undefined, (r) => {
        if (r.code === 250 || r.code === 251) anyAccepted = true;
      }),
    );
    if (dataInGroup) {
      // A message in memory goes out as soon as its 354 is parsed, in the same turn of the event loop,
      // before the replies that came in the same chunk are settled: the server can work on it meanwhile.
      // Anything unusual is left to the code below.
      const out = prepared.stuffed;
      dataReply = wire.read(
        'data',
        t.command,
        undefined,
        out &&
          ((r) => {
            if (r.code !== 354 || !envelopeOk || !anyAccepted) return;
            // Corked: a transaction waiting for this connection starts inside onWritten, and its envelope
            // joins this message in one TLS record and one TCP segment.
            wire.cork();
            try {
              const written = wire.writeData(out);
              early = { bytes: out.length, written, final: wire.read('data', t.data) };
              wire.noteData(out.length);
              if (!written) options.onWritten?.(true);
            } catch (err) {
              earlyError = err;
            } finally {
              wire.uncork();
            }
          }),
      );
    }
    if (inlineBdat && plan.buffer) {
      const body = normalise(plan.buffer);
      wire.write(commands.bdat(body.length, true));
      const written = wire.writeData(body);
      wire.uncork();
      inlineFinal = wire.read('bdat', t.data);
      await written;
      wire.noteData(body.length);
      sentBytes = body.length;
      options.onWritten?.();
    } else {
      wire.uncork();
    }
    options.onStarted?.();
  } else {
    if (options.prefixRset) rsetReply = roundTrip(wire, commands.rset(), 'rset', t.command);
    if (rsetReply) await rsetReply;
    mailReply = roundTrip(wire, mailLine, 'mail', t.command);
  }

  if (authReply && options.auth) {
    const r = await authReply;
    if (r.code !== 235) {
      // The commands behind AUTH may have been accepted without it, DATA included: close rather than
      // answer anything, so nothing is delivered unauthenticated.
      wire.destroy();
      if (r.code === 334) {
        options.onAuthRefused?.();
        throw new ProtocolError(
          'EAUTH_PROTOCOL',
          `${label} answered AUTH ${options.auth.mechanism} with its initial response by a challenge`,
          { phase: 'auth', transient: true, hint: 'the next connection authenticates before sending' },
        );
      }
      throw authRejection(r, options.auth.mechanism, label);
    }
  }
  if (rsetReply) {
    const r = await rsetReply;
    if (r.code !== 250) throw rejection(r, 'RSET', 'rset', label);
  }
  const mail = await mailReply;
  const accepted: string[] = [];
  const rejected: RejectedRecipient[] = [];
  for (const [i, original] of prepared.recipients.entries()) {
    const reply = pipelined
      ? await rcptReplies[i]!
      : mail.code === 250
        ? await roundTrip(wire, rcptLines[i] ?? '', 'rcpt', t.command)
        : undefined;
    if (!reply) break;
    if (reply.code === 250 || reply.code === 251) accepted.push(original);
    else rejected.push({ address: original, reply });
  }
  const envelopeDone = Date.now();

  const failBeforeData = async (error: PosternError): Promise<never> => {
    // Consume the replies to commands already pipelined so the connection stays in sync.
    if (dataReply) {
      const go = await dataReply;
      if (go.code === 354) {
        // A server that accepted DATA anyway: end it at once with no content (RFC 2920 §3.1).
        wire.write('.\r\n');
        await wire.read('data', t.data);
      }
    } else if (inlineFinal) {
      await inlineFinal;
    }
    throw error;
  };

  if (mail.code !== 250)
    await failBeforeData(rejection(mail, `MAIL FROM:<${prepared.envelope.from}>`, 'mail', label));
  if (accepted.length === 0) await failBeforeData(noRecipients(rejected, label));
  if (prepared.requireAllRecipients && rejected.length > 0)
    await failBeforeData(noRecipients(rejected, label, true));

  let final: Reply;
  let method: 'DATA' | 'BDAT';
  if (useBdat) {
    method = 'BDAT';
    if (inlineFinal) {
      final = await inlineFinal;
    } else {
      const sent = await sendChunks(wire, plan, source, t, pipelined, options.onWritten);
      sentBytes = sent.bytes;
      final = sent.reply;
    }
  } else {
    method = 'DATA';
    const go = await (dataReply ?? roundTrip(wire, commands.data(), 'data', t.command));
    if (earlyError) throw earlyError;
    if (go.code !== 354) throw rejection(go, 'DATA', 'data', label);
    if (early) {
      if (early.written) await early.written;
      options.onWritten?.(true);
      sentBytes = early.bytes;
      final = await early.final;
    } else {
      sentBytes = await streamData(wire, prepared, source);
      const finalReply = wire.read('data', t.data);
      options.onWritten?.(true);
      final = await finalReply;
    }
  }
  if (final.code !== 250)
    throw rejection(final, `end of ${method}`, method === 'BDAT' ? 'bdat' : 'data', label);
  const done = Date.now();
  return {
    accepted,
    rejected,
    reply: final,
    queueId: queueIdOf(final),
    bytes: sentBytes,
    method,
    timings: { envelope: envelopeDone - started, data: done - envelopeDone, total: done - started },
  };
}

async function roundTrip(wire: Wire, line: string, phase: Phase, timeout: number): Promise<Reply> {
  wire.write(line);
  return wire.read(phase, timeout);
}

function noRecipients(
  rejected: readonly RejectedRecipient[],
  label: string,
  partial = false,
): SmtpReplyError {
  const first = rejected[0]?.reply;
  const list = rejected.map((r) => `${r.address} (${formatReply(r.reply)})`).join('; ');
  return new SmtpReplyError(
    'ENO_RECIPIENTS',
    partial
      ? `${label} rejected some recipients and requireAllRecipients is set: ${list}`
      : `${label} rejected every recipient: ${list}`,
    {
      reply: first,
      command: 'RCPT TO',
      phase: 'rcpt',
      // Only worth retrying when every rejection was temporary.
      transient: rejected.length > 0 && rejected.every((r) => r.reply.code >= 400 && r.reply.code < 500),
    },
  );
}

export interface MessagePlan {
  readonly buffer: Buffer | undefined;
  readonly size: number | undefined;
  readonly eightBit: boolean;
  readonly utf8Headers: boolean;
}

/** Looks at an in-memory message once: its size, whether it has 8-bit bytes, and raw UTF-8 in its header. */
function planMessage(source: MessageSource, envelope: Envelope): MessagePlan {
  const buffer =
    typeof source === 'string'
      ? Buffer.from(source, 'utf8')
      : source instanceof Uint8Array
        ? Buffer.from(source.buffer, source.byteOffset, source.byteLength)
        : undefined;
  if (!buffer)
    return {
      buffer: undefined,
      size: envelope.size,
      eightBit: envelope.body === '8BITMIME',
      utf8Headers: false,
    };
  const eightBit = !isAscii(buffer);
  let headerEnd = buffer.indexOf('\r\n\r\n');
  if (headerEnd === -1) headerEnd = buffer.indexOf('\n\n');
  if (headerEnd === -1) headerEnd = buffer.length;
  const utf8Headers = eightBit && !isAscii(buffer.subarray(0, headerEnd));
  return { buffer, size: buffer.length, eightBit, utf8Headers };
}

function normalise(buffer: Buffer): Buffer {
  return dotStuff(buffer, { stuff: false, terminate: false });
}

function toReadable(source: MessageSource): Readable {
  if (source instanceof Readable) return source;
  if (typeof source === 'string' || source instanceof Uint8Array) return Readable.from([Buffer.from(source)]);
  return Readable.from(source);
}

/** DATA: the message dot-stuffed, bare CR/LF made CRLF, and terminated with CRLF.CRLF. */
async function streamData(wire: Wire, prepared: PreparedTransaction, source: MessageSource): Promise<number> {
  const out = prepared.stuffed;
  if (out) {
    await wire.writeData(out);
    wire.noteData(out.length);
    return out.length;
  }
  const stuffer = new DotStuffer();
  await pipeline(toReadable(source), stuffer, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) await wire.writeData(chunk);
  }).catch((err: unknown) => {
    // Never send the terminating dot after a failed source: that would deliver a truncated message.
    wire.destroy();
    throw sourceError(err);
  });
  wire.noteData(stuffer.bytesOut);
  return stuffer.bytesOut;
}

/** BDAT (RFC 3030): CRLF-normalised chunks, no dot-stuffing, the last one flagged LAST. */
async function sendChunks(
  wire: Wire,
  plan: MessagePlan,
  source: MessageSource,
  t: Required<Timeouts>,
  pipelined: boolean,
  onWritten: (() => void) | undefined,
): Promise<{ bytes: number; reply: Reply }> {
  const replies: Promise<Reply>[] = [];
  let bytes = 0;
  let failure: Reply | undefined;
  const sendChunk = async (chunk: Buffer, last: boolean) => {
    wire.write(commands.bdat(chunk.length, last));
    const written = chunk.length > 0 ? wire.writeData(chunk) : undefined;
    const reply = wire.read('bdat', t.data);
    replies.push(reply);
    // Pipelined, writing goes on while replies arrive; a failure is noticed as soon as its reply is in.
    void reply.then((r) => {
      if (r.code !== 250 && !failure) failure = r;
    });
    await written;
    bytes += chunk.length;
    if (!pipelined) await reply;
  };
  if (plan.buffer) {
    await sendChunk(normalise(plan.buffer), true);
  } else {
    const normaliser = new DotStuffer({ stuff: false, terminate: false });
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    await pipeline(toReadable(source), normaliser, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= MIN_CHUNK) {
          const out = Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          await sendChunk(out, false);
          if (failure) break;
        }
      }
    }).catch((err: unknown) => {
      wire.destroy();
      throw sourceError(err);
    });
    // After a failed chunk the server rejects the rest; LAST (even empty) closes the transaction either way.
    await sendChunk(failure ? Buffer.alloc(0) : Buffer.concat(pending, pendingBytes), true);
  }
  wire.noteData(bytes);
  onWritten?.();
  // Every BDAT gets a reply; the one to LAST is the verdict, unless an earlier chunk failed.
  const all = await Promise.all(replies);
  const verdict = all.find((r) => r.code !== 250) ?? all[all.length - 1];
  if (!verdict) throw new PosternError('EPROTOCOL', 'the server sent no reply to BDAT', { phase: 'bdat' });
  return { bytes, reply: verdict };
}

function sourceError(err: unknown): PosternError {
  // The connection failing while we wrote is already one of ours; anything else came from the source.
  if (err instanceof PosternError) return err;
  return new InputError(
    'EINVALID_ARGUMENT',
    `reading the message failed: ${err instanceof Error ? err.message : String(err)}`,
    {
      cause: err,
      phase: 'data',
      hint: 'the connection was closed without ending the message, so nothing was delivered',
    },
  );
}

/** Common forms: Postfix "queued as ABC", Exim "id=1abc-000", Sendmail "ABC Message accepted", "OK: <id>". */
export function queueIdOf(reply: Reply): string | undefined {
  const text = reply.message;
  const patterns = [
    /queued as ([A-Za-z0-9._@:-]+)/i,
    /\bid=([A-Za-z0-9._@-]+)/i,
    /^([A-Za-z0-9]{8,}) Message accepted/i,
    /<([^>\s]+)>/,
  ];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m?.[1]) return m[1];
  }
  return undefined;
}
