/**
 * Composing and sending one message for `postern send`. The transport calls `cliComposer()` once it knows what
 * the server offers (8BITMIME, SMTPUTF8), so the message is encoded for that server; the composer adds what
 * only the command line wants: DKIM from flags and byte counts for the progress bar.
 */
import { Readable } from 'node:stream';
import type { ComposedSource, MessageComposer, MessageSendResult, Transport } from '../../client/index.js';
import { isPosternError } from '../../core/index.js';
import { type DkimOptions, dkimSign } from '../../mime/dkim/index.js';
import { type ComposedMessage, compose, type Message } from '../../mime/index.js';
import { counted } from '../progress.js';

/** What a server offers that changes how a message is composed. */
export interface ServerExtensions {
  readonly smtpUtf8: boolean;
  readonly eightBitMime: boolean;
}

/** A composed (and maybe signed) message, replayable: each `stream()` gives the same bytes. */
export interface Prepared extends ComposedSource {
  /** The size before signing: what a progress bar can count against. */
  readonly approximateSize: number | undefined;
  dispose(): Promise<void>;
}

export interface PrepareExtras {
  readonly dkim?: DkimOptions | undefined;
  /** Called with the byte count of each chunk as the connection reads it (the progress bar). */
  readonly onChunk?: ((bytes: number) => void) | undefined;
  /** Called once the message is composed (starts the progress bar). */
  readonly onComposed?: ((prepared: Prepared) => void) | undefined;
}

/** Composes `message` for a server with `server`'s extensions, then signs it when DKIM is asked for. */
export async function composeFor(
  message: Message,
  server: ServerExtensions,
  extras: PrepareExtras = {},
): Promise<Prepared> {
  const composed: ComposedMessage = await compose(message, server);
  const dkim = extras.dkim;
  const prepared: Prepared = {
    envelope: composed.envelope,
    messageId: composed.messageId,
    // DKIM-Signature is made while streaming, so the signed size is not known up front (SIZE is optional).
    size: dkim ? undefined : composed.size,
    approximateSize: composed.size,
    needsSmtpUtf8: composed.needsSmtpUtf8,
    eightBit: composed.eightBit,
    stream() {
      const source: AsyncIterable<Uint8Array> = dkim ? signedStream(composed, dkim) : composed.stream();
      return Readable.from(extras.onChunk ? counted(source, extras.onChunk) : source, { objectMode: false });
    },
    dispose: () => composed.dispose(),
  };
  extras.onComposed?.(prepared);
  return prepared;
}

async function* signedStream(composed: ComposedMessage, dkim: DkimOptions): AsyncGenerator<Uint8Array> {
  yield* await dkimSign(() => composed.stream(), dkim);
}

/** The transport's composer hook for these extras. */
export function cliComposer(extras: PrepareExtras): MessageComposer<unknown> {
  return (message, server) => composeFor(message as Message, server, extras);
}

/** Sends `message` through a transport made with `cliComposer()`. */
export function deliver(transport: Transport, message: Message): Promise<MessageSendResult> {
  return transport.send(message);
}

/**
 * Composes without knowing the server (for --dry-run): 7-bit safe encodings, ASCII headers; an address that
 * needs SMTPUTF8 gets it.
 */
export async function composeAnywhere(message: Message, extras: PrepareExtras = {}): Promise<Prepared> {
  try {
    return await composeFor(message, { smtpUtf8: false, eightBitMime: false }, extras);
  } catch (err) {
    if (isPosternError(err) && err.code === 'ESMTPUTF8_REQUIRED') {
      return composeFor(message, { smtpUtf8: true, eightBitMime: false }, extras);
    }
    throw err;
  }
}
