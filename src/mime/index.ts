/**
 * mime/: message objects to RFC 5322/MIME bytes. The entry point is `compose()`.
 */
export { compose } from './compose.js';
export { contentTypeFor } from './content-type.js';
export type {
  Addresses,
  AddressGroup,
  AddressInput,
  AddressObject,
  Alternative,
  Attachment,
  ComposedMessage,
  ComposeOptions,
  Content,
  CustomHeaders,
  EnvelopeInput,
  HeaderValue,
  IcalEvent,
  ListHeaders,
  ListUnsubscribe,
  Message,
  PathContent,
  Priority,
} from './message.js';
