/**
 * Message data: DATA (RFC 5321 §4.1.1.4, dot-stuffed, ended only by CRLF.CRLF) and BDAT (RFC 3030, counted
 * chunks). Bytes stream to the backend as they arrive; the size limit is enforced on what actually arrives
 * (the rest is read and dropped, then 552); the 250 is sent only once the backend says the message is stored.
 */
import type { Readable } from 'node:stream';
import { type Command, DataReader } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { type DeliveryOutcome, MessageSink } from './message-sink.js';
import { receivedHeader } from './received.js';
import { Replies } from './replies.js';
import type { Envelope } from './session.js';
import type { Transaction } from './state.js';

type Cmd<V extends Command['verb']> = Extract<Command, { verb: V }>;

const READ_SIZE = 64 * 1024;

function envelopeOf(tx: Transaction): Envelope {
  return { id: tx.id, mailFrom: { address: tx.from, params: tx.params }, rcptTo: tx.recipients };
}

/** Starts delivery to onData or the store, with the Received header in front. */
function openSink(c: Connection, tx: Transaction): MessageSink {
  const o = c.runtime.options;
  const envelope = envelopeOf(tx);
  const header = o.receivedHeader
    ? Buffer.from(
        receivedHeader({
          helo: c.session.helo,
          remoteAddress: c.remote.address,
          hostname: o.hostname,
          id: tx.id,
          tls: c.tls,
          authenticated: c.user !== undefined,
          smtpUtf8: tx.params.smtpUtf8 === true,
          recipients: tx.recipients.map((r) => r.address),
          date: new Date(),
        }),
      )
    : undefined;
  const sink = new MessageSink(header);
  const backend = o.backend;
  const store = c.runtime.store;
  sink.start(async (stream: Readable): Promise<DeliveryOutcome> => {
    const outcome = await c.hook(
      'onData',
      () =>
        backend.onData
          ? backend.onData(stream, envelope, c.session)
          : store.deliver(stream, envelope, c.session),
      // A failure after the server aborted the message (too large, client gone) is expected.
      () => sink.aborted,
    );
    if (!outcome.ok) return { ok: false, reply: outcome.reply };
    return { ok: true, id: outcome.value?.id ?? envelope.id };
  });
  return sink;
}

/** Waits for the backend's answer and replies: 250 with the queue id, or the backend's refusal. */
async function finishDelivery(c: Connection, sink: MessageSink, tx: Transaction): Promise<void> {
  sink.end();
  const outcome = await sink.outcome(c.runtime.options.limits.dataTimeout);
  c.transcriptData(sink.bytes);
  if (!outcome.ok) {
    c.send(outcome.reply);
    return;
  }
  c.countMessage();
  c.log.info('message accepted', {
    session: c.id,
    id: outcome.id,
    from: tx.from,
    recipients: tx.recipients.length,
    size: sink.bytes,
    user: c.user,
  });
  c.send(Replies.queued(outcome.id));
}

/** Checks shared by DATA and the first BDAT; returns the transaction, or undefined after replying. */
function transactionReady(c: Connection): Transaction | undefined {
  const phase = c.phase;
  if (phase.kind === 'chunking') {
    c.bad(Replies.badSequence('DATA during BDAT'));
    return undefined;
  }
  if (phase.kind !== 'transaction') {
    c.bad(Replies.badSequence('need MAIL command'));
    return undefined;
  }
  if (phase.tx.recipients.length === 0) {
    c.bad(Replies.noRecipients);
    return undefined;
  }
  return phase.tx;
}

export async function data(c: Connection, _command: Cmd<'DATA'>): Promise<void> {
  const tx = transactionReady(c);
  if (!tx) return;
  const phase = c.phase;
  if (phase.kind !== 'transaction') return;
  if (tx.params.body === 'BINARYMIME') return c.bad(Replies.binaryNeedsBdat);
  c.send(Replies.startData);
  const o = c.runtime.options;
  const reader = new DataReader({ bareLineEndings: o.bareLineEndings });
  const sink = openSink(c, tx);
  let tooBig = false;
  for (;;) {
    const chunk = await c.readChunk(READ_SIZE);
    if (chunk === 'closed' || chunk === 'timeout') {
      sink.abort('the client did not finish the message');
      if (chunk === 'timeout') c.send(Replies.idleTimeout);
      c.close(chunk === 'timeout' ? 'timeout in DATA' : 'client closed during DATA');
      return;
    }
    const result = reader.push(chunk);
    for (const piece of result.data) {
      if (tooBig) continue;
      if (sink.bytes + piece.length > o.limits.maxMessageSize) {
        tooBig = true;
        sink.abort('the message is too large');
        continue;
      }
      if ((await sink.write(piece, o.limits.dataTimeout)) === 'timeout') {
        sink.abort('the backend stopped reading');
        c.send(Replies.localError);
        c.close('backend stalled');
        return;
      }
    }
    if (result.violation) {
      // Smuggling defence: the client and we may disagree on where the data ends, so nothing after this
      // point can be trusted as a command. Refuse and disconnect, as Postfix and Sendmail do.
      sink.abort('bare CR or LF in the message');
      c.log.warn('bare CR or LF in DATA', {
        session: c.id,
        remote: c.remote.address,
        kind: result.violation,
      });
      c.send(Replies.bareLineEnding);
      c.close('bare line ending in DATA');
      return;
    }
    if (result.rest) {
      c.unshift(result.rest);
      break;
    }
  }
  c.phase = { kind: 'greeted', helo: phase.helo };
  if (tooBig) {
    await sink.outcome(o.limits.dataTimeout);
    c.send(Replies.sizeExceeded);
    return;
  }
  await finishDelivery(c, sink, tx);
}

/**
 * Reads and drops a BDAT chunk the server refuses: RFC 3030 §2 — the data follows the command whatever the
 * reply, so it must be consumed to stay in step. False when the connection ended meanwhile.
 */
export async function discardChunk(c: Connection, size: number): Promise<boolean> {
  if (!Number.isFinite(size)) {
    c.send(Replies.sizeExceeded);
    c.close('unreadable BDAT size');
    return false;
  }
  let left = size;
  while (left > 0) {
    const chunk = await c.readChunk(Math.min(left, READ_SIZE));
    if (typeof chunk === 'string') {
      c.close(chunk === 'timeout' ? 'timeout in BDAT' : 'client closed during BDAT');
      if (chunk === 'timeout') c.send(Replies.idleTimeout);
      return false;
    }
    left -= chunk.length;
  }
  return true;
}

export async function bdat(c: Connection, command: Cmd<'BDAT'>): Promise<void> {
  const o = c.runtime.options;
  const phase = c.phase;
  if (phase.kind !== 'transaction' && phase.kind !== 'chunking') {
    if (await discardChunk(c, command.size)) c.bad(Replies.badSequence('need MAIL command'));
    return;
  }
  if (phase.kind === 'transaction' && phase.tx.recipients.length === 0) {
    if (await discardChunk(c, command.size)) c.bad(Replies.noRecipients);
    return;
  }
  const received = phase.kind === 'chunking' ? phase.received : 0;
  if (received + command.size > o.limits.maxMessageSize) {
    if (phase.kind === 'chunking') phase.sink.abort('the message is too large');
    c.phase = { kind: 'greeted', helo: phase.helo };
    if (await discardChunk(c, command.size)) c.send(Replies.sizeExceeded);
    return;
  }
  const sink = phase.kind === 'chunking' ? phase.sink : openSink(c, phase.tx);
  c.phase = { kind: 'chunking', helo: phase.helo, tx: phase.tx, sink, received: received + command.size };
  let left = command.size;
  while (left > 0) {
    const chunk = await c.readChunk(Math.min(left, READ_SIZE));
    if (typeof chunk === 'string') {
      sink.abort('the client did not finish the chunk');
      if (chunk === 'timeout') c.send(Replies.idleTimeout);
      c.close(chunk === 'timeout' ? 'timeout in BDAT' : 'client closed during BDAT');
      return;
    }
    left -= chunk.length;
    if ((await sink.write(chunk, o.limits.dataTimeout)) === 'timeout') {
      sink.abort('the backend stopped reading');
      c.send(Replies.localError);
      c.close('backend stalled');
      return;
    }
  }
  if (!command.last) {
    c.send(Replies.chunkReceived(command.size));
    return;
  }
  c.phase = { kind: 'greeted', helo: phase.helo };
  await finishDelivery(c, sink, phase.tx);
}
