/** DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463), streamed. */

export type { BodyCanonicalization } from './body-canonicalization.js';
export { DkimBodyHasher, type DkimHashAlgorithm } from './body-hasher.js';
export type { HeaderCanonicalization } from './header-fields.js';
export { DKIM_DEFAULT_HEADER_FIELDS, type DkimCanonicalization, type DkimOptions } from './options.js';
export { signHeaders } from './sign-headers.js';
export { dkimSign, MAX_HEADER_SECTION_BYTES, type MessageSource } from './sign-stream.js';
export type { DkimAlgorithm } from './signing-key.js';
