/**
 * The SMTP envelope a message implies: MAIL FROM is the Sender, else the (first) From; RCPT TO is every
 * To, Cc and Bcc mailbox (group members included) once. An explicit `envelope` replaces both.
 * Addresses are given with A-label domains, which every server accepts; a UTF-8 local part stays UTF-8
 * (it needs SMTPUTF8, checked when it was parsed).
 */
import { InputError } from '../core/errors.js';
import {
  type AddressContext,
  type AddressEntry,
  envelopeAddress,
  type Mailbox,
  mailboxesOf,
  parseAddresses,
} from './address.js';
import { describeType } from './input.js';
import type { EnvelopeInput } from './message.js';

export interface Envelope {
  readonly from: string;
  readonly to: string[];
}

/** Addresses without repeats; the domain is compared without case, the local part with (RFC 5321 §2.4). */
function unique(mailboxes: readonly Mailbox[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const mailbox of mailboxes) {
    const key = `${mailbox.local}@${mailbox.asciiDomain.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(envelopeAddress(mailbox));
  }
  return out;
}

function explicitEnvelope(envelope: EnvelopeInput, context: AddressContext): Envelope {
  if (typeof envelope !== 'object' || envelope === null) {
    throw new InputError('EINVALID_ARGUMENT', `envelope must be { from, to }, not ${describeType(envelope)}`);
  }
  if (typeof envelope.from !== 'string')
    throw new InputError('EINVALID_ARGUMENT', 'envelope.from must be a string');
  let from = '';
  if (envelope.from.trim() !== '') {
    const senders = mailboxesOf(parseAddresses(envelope.from, 'envelope.from', context, false));
    if (senders.length !== 1) throw new InputError('EADDRESS_INVALID', 'envelope.from must be one address');
    from = envelopeAddress(senders[0]!);
  }
  const to = unique(mailboxesOf(parseAddresses(envelope.to, 'envelope.to', context)));
  return { from, to };
}

/** The envelope of a message from its address fields, unless `explicit` is given. */
export function envelopeOf(
  explicit: EnvelopeInput | undefined,
  fields: { sender: Mailbox | undefined; from: readonly Mailbox[]; recipients: readonly AddressEntry[] },
  context: AddressContext,
): Envelope {
  if (explicit !== undefined) return explicitEnvelope(explicit, context);
  const sender = fields.sender ?? fields.from[0];
  return { from: sender ? envelopeAddress(sender) : '', to: unique(mailboxesOf(fields.recipients)) };
}
