export type { SessionOptions, Timeouts } from './options.js';
export { Pool, type Poolable, type PoolOptions } from './pool.js';
export { type SessionExtras, type SessionInfo, SmtpSession } from './session.js';
export { negotiateStarttls } from './starttls.js';
export type { Envelope, MessageSource, RejectedRecipient, SendOptions, SendResult } from './transaction.js';
export { queueIdOf } from './transaction.js';
export {
  type ComposedSource,
  createTransport,
  type MessageComposer,
  type MessageSendResult,
  type RateLimit,
  type ReplayableSource,
  type RetryOptions,
  Transport,
  type TransportOptions,
  type TransportSendResult,
  type VerifyResult,
} from './transport.js';
export { parseSmtpUrl } from './url.js';
