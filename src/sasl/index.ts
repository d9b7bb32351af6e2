/**
 * Pure SASL for SMTP AUTH: the client half of PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1/-256 (and -PLUS), XOAUTH2 and
 * OAUTHBEARER, mechanism choice, and SASLprep. The shared primitives a server half builds on live in their own
 * files: scram-core.ts, scram-messages.ts, gs2.ts, plain-message.ts, bearer-messages.ts, cram-md5.ts.
 */
export { type ChooseMechanismOptions, chooseMechanism } from './choose.js';
export { createSaslClient, SASL_MECHANISMS } from './mechanisms.js';
export { type SaslprepOptions, saslprep } from './saslprep.js';
export { DEFAULT_SCRAM_ITERATIONS, hasChannelBinding, SCRAM_SALT_BYTES } from './scram-server.js';
export {
  decodeInitialResponse,
  decodeResponseLine,
  encodeChallenge,
  type SaslClientLine,
} from './server-framing.js';
export {
  createSaslServer,
  SASL_SERVER_MECHANISMS,
  type ServerMechanismsOptions,
  serverMechanisms,
} from './server-mechanisms.js';
export type {
  OAuthTokenRejection,
  SaslCredentialStore,
  SaslFailureReason,
  SaslServer,
  SaslServerContext,
  SaslServerStep,
  ScramHashName,
  ScramStoredCredentials,
} from './server-types.js';
export type {
  ChannelBinding,
  ChannelBindingType,
  Credentials,
  OAuthCredentials,
  PasswordCredentials,
  SaslClient,
  SaslClientContext,
  TokenProvider,
} from './types.js';
