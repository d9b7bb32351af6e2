/** Pure SMTP grammar: replies, commands, capabilities, addresses, DATA encoding. No I/O. */

export {
  type MailboxOptions,
  toWireAddress,
  validateMailbox,
  validateReversePath,
  type WireAddress,
} from './address.js';
export { type Capabilities, heloCapabilities, parseEhlo } from './capabilities.js';
export {
  type BodyType,
  type Command,
  type CommandProblem,
  type DsnNotify,
  decodeSaslLine,
  type MailParameters,
  type OriginalRecipient,
  type ParsedCommand,
  parseCommand,
  type RcptParameters,
  type Verb,
} from './command-parser.js';
export {
  auth,
  bdat,
  COMMAND_LINE_LIMIT,
  data,
  ehlo,
  helo,
  initialResponseFits,
  type MailParams,
  mailFrom,
  noop,
  quit,
  type RcptParams,
  rcptTo,
  rset,
  saslCancel,
  saslResponse,
  starttls,
  vrfy,
} from './commands.js';
export {
  type BareLineEnding,
  type BareLineEndingPolicy,
  DataReader,
  type DataReaderOptions,
  type DataReadResult,
} from './data-reader.js';
export { domainToAscii } from './domain.js';
export { DotStuffer, type DotStuffOptions, dotStuff } from './dot-stuffing.js';
export { LineReader, type LineReaderOptions } from './line-reader.js';
export { formatOrcpt } from './orcpt.js';
export { escapeControls, printable } from './printable.js';
export {
  formatReply,
  isIntermediate,
  isPermanent,
  isPositive,
  isTransient,
  makeReply,
  type Reply,
  ReplyParser,
  type ReplyParserOptions,
} from './reply.js';
export { decodeXtext, encodeXtext } from './xtext.js';
