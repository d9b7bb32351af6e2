/**
 * Postern's public API. Import from 'postern'.
 *
 * @example
 * import { createTransport } from 'postern';
 * const transport = createTransport('smtps://me%40example.com:secret@mail.example.com');
 * await transport.send({ from: 'me@example.com', to: 'you@example.org', subject: '你好', text: 'Hi!' });
 */
import { PassThrough } from 'node:stream';
import {
  type TransportOptions as ClientTransportOptions,
  type ComposedSource,
  createTransport as createClientTransport,
  type MessageComposer,
  type Transport,
} from './client/index.js';
import { type DkimOptions, dkimSign } from './mime/dkim/index.js';
import { compose, type Message } from './mime/index.js';

export * from './client/index.js';
export * from './core/index.js';
export { DKIM_DEFAULT_HEADER_FIELDS, type DkimOptions, dkimSign } from './mime/dkim/index.js';
export * from './mime/index.js';
export type { TlsDetails } from './net/index.js';
export type { Capabilities, Reply } from './protocol/index.js';
export type {
  ChannelBinding,
  Credentials,
  OAuthCredentials,
  PasswordCredentials,
  TokenProvider,
} from './sasl/index.js';
export type { ClientTlsOptions, TlsMode } from './tls/index.js';
export { createCa, createCertificate, defaultTlsMode, describeCertificate, spkiSha256 } from './tls/index.js';

/** Transport options, plus DKIM signing of every message composed by `send(message)`. */
export interface TransportOptions extends ClientTransportOptions {
  /** One signature, or several (e.g. rsa-sha256 and ed25519-sha256 side by side, RFC 8463). */
  readonly dkim?: DkimOptions | readonly DkimOptions[];
}

/**
 * Creates a transport from a URL (`smtps://user:pass@host:465`, `smtp://host:587?tls=opportunistic`) or an
 * options object. `send(message)` composes MIME for what the server offers and signs with `dkim` when given;
 * `sendRaw(envelope, bytes)` sends ready-made messages.
 */
export function createTransport(
  urlOrOptions: string | TransportOptions,
  overrides: Partial<TransportOptions> = {},
): Transport {
  const dkim = overrides.dkim ?? (typeof urlOrOptions === 'object' ? urlOrOptions.dkim : undefined);
  return createClientTransport(urlOrOptions, overrides, messageComposer(dkim));
}

function messageComposer(dkim: DkimOptions | readonly DkimOptions[] | undefined): MessageComposer<unknown> {
  return async (message, server) => {
    const composed = await compose(message as Message, {
      smtpUtf8: server.smtpUtf8,
      eightBitMime: server.eightBitMime,
    });
    if (!dkim) return composed;
    return signed(composed, dkim);
  };
}

/** The composed message with DKIM-Signature fields on top; each stream() signs afresh (two passes). */
function signed(composed: ComposedSource, dkim: DkimOptions | readonly DkimOptions[]): ComposedSource {
  return {
    envelope: composed.envelope,
    messageId: composed.messageId,
    // The signature's length is known only after the first pass; SIZE is optional, so leave it out.
    size: undefined,
    needsSmtpUtf8: composed.needsSmtpUtf8,
    eightBit: composed.eightBit,
    stream() {
      const out = new PassThrough();
      dkimSign(() => composed.stream(), dkim).then(
        (signedStream) => {
          signedStream.on('error', (err) => out.destroy(err));
          signedStream.pipe(out);
        },
        (err: unknown) => out.destroy(err as Error),
      );
      return out;
    },
    dispose: composed.dispose ? () => composed.dispose!() : undefined,
  };
}

// The security audit and the connection doctor (`postern audit`, `postern doctor`).
export * from './audit/index.js';
export type { ServerTlsInfo } from './net/index.js';
export type { BareLineEndingPolicy, MailParameters, RcptParameters } from './protocol/index.js';
export type { SaslCredentialStore } from './sasl/index.js';
// The server. Its session and envelope types are renamed here: the client has types of the same names.
export {
  type AddUserOptions,
  type AuthIdentity,
  type AuthOptions,
  type Awaitable,
  addUser,
  type CloseOptions,
  type DataResult,
  DEFAULT_LIMITS,
  type EndpointOptions,
  type EndpointTls,
  type Envelope as ServerEnvelope,
  type EnvelopeRecipient,
  formatServerReply,
  type HeloInfo,
  jsonLogger,
  type ListedUser,
  type ListeningAddress,
  listUsers,
  MaildirStore,
  type MaildirStoreOptions,
  MemoryStore,
  type MemoryStoreOptions,
  type MessageStore,
  type RemoteInfo,
  reject,
  removeUser,
  type ServerBackend,
  ServerController,
  type ServerLimits,
  type ServerReply,
  type ServerTranscriptListener,
  type SessionInfo as ServerSessionInfo,
  SmtpServer,
  type SmtpServerOptions,
  type StoredMessage,
  UsersFile,
} from './server/index.js';
export type {
  CertificateSource,
  ServerCertificateConfig,
  SniCertificates,
  TlsProfileName,
} from './tls/index.js';
export { ensureAutoCertificate } from './tls/index.js';
