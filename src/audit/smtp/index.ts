/** The SMTP checks of `postern audit`. */
export { FAKE_PLAIN_RESPONSE } from './plaintext-auth.js';
export { DEFAULT_OUTSIDE_DOMAIN, type RelayAttempt, relayAttempts } from './relay.js';
export { type SmtpScanOptions, scanSmtp } from './scan.js';
export { classifySmuggling, SMUGGLING_ENDINGS, smugglingPayload } from './smuggling.js';
export { type AddressClass, addressClass } from './source-address.js';
export {
  authAttemptProcessed,
  ehloKeywords,
  escapeEnding,
  lookupEnabled,
  sizeOf,
  vrfyEnumerates,
} from './verdicts.js';
