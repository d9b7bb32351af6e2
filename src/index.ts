/**
 * Postern's public API. Import from 'postern'.
 *
 * @example
 * import { createTransport } from 'postern';
 * const transport = createTransport('smtps://me%40example.com:secret@mail.example.com');
 */
export * from './client/index.js';
export * from './core/index.js';
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
