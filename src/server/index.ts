/** The SMTP server: listener, per-connection state machine, backend hooks, auth, mail stores. */

export { ServerController } from './controller.js';
export type { AuthIdentity, Awaitable, DataResult, ServerBackend } from './hooks.js';
export { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
export { jsonLogger } from './log.js';
export type { AuthOptions, EndpointOptions, ServerTranscriptListener, SmtpServerOptions } from './options.js';
export { formatServerReply, reject, type ServerReply } from './replies.js';
export { type CloseOptions, type ListeningAddress, SmtpServer } from './server.js';
export type {
  EndpointTls,
  Envelope,
  EnvelopeRecipient,
  HeloInfo,
  RemoteInfo,
  SessionInfo,
} from './session.js';
export { MaildirStore, type MaildirStoreOptions } from './stores/maildir.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export type { MessageStore, StoredMessage } from './stores/types.js';
export {
  type AddUserOptions,
  addUser,
  type ListedUser,
  listUsers,
  removeUser,
  UsersFile,
} from './users-file.js';
