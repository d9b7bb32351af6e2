import type { Duplex } from 'node:stream';
import { AuthError, ProtocolError } from '../core/index.js';
import { channelBindings } from '../net/index.js';
import * as commands from '../protocol/commands.js';
import type { Capabilities, Reply } from '../protocol/index.js';
import {
  type ChannelBinding,
  type Credentials,
  chooseMechanism,
  createSaslClient,
  type SaslClient,
} from '../sasl/index.js';
import { authRejection } from './reply-errors.js';
import type { Wire } from './wire.js';

export interface AuthenticateOptions {
  readonly authMethod?: string | readonly string[] | undefined;
  readonly timeout: number;
  /** The (TLS) socket, for channel binding data. */
  readonly secure: Duplex;
  readonly host: string;
  readonly port: number;
  readonly label: string;
}

const REDACTED = '[redacted]';

/** An AUTH command that may lead a pipelined group (see `pipelinableAuth`). */
export interface PipelinedAuth {
  readonly mechanism: string;
  readonly line: string;
  /** The line as the transcript shows it: the initial response redacted. */
  readonly shown: string;
}

/**
 * The AUTH line to send at the head of the first transaction's pipelined group, when RFC 4954 §4 allows it:
 * the server offers PIPELINING and the chosen mechanism completes in one round trip from an initial
 * response with no security layer — PLAIN. Undefined otherwise: authenticate on its own first.
 */
export async function pipelinableAuth(
  wire: Wire,
  capabilities: Capabilities,
  credentials: Credentials,
  options: AuthenticateOptions,
): Promise<PipelinedAuth | undefined> {
  if (!capabilities.pipelining || capabilities.auth.length === 0) return undefined;
  const { mechanism, context } = pick(wire, capabilities, credentials, options);
  if (mechanism !== 'PLAIN') return undefined;
  const response = await createSaslClient(mechanism, credentials, context).initialResponse();
  if (response === undefined) return undefined;
  const encoded = response.toString('base64');
  if (!commands.initialResponseFits(mechanism, encoded)) return undefined;
  return { mechanism, line: commands.auth(mechanism, encoded), shown: `AUTH ${mechanism} ${REDACTED}\r\n` };
}

/**
 * Runs one SASL exchange (RFC 4954) and returns the mechanism used. Client responses never reach the
 * transcript. An OAuth token is refreshed once when the server's error challenge says it was rejected.
 */
export async function authenticate(
  wire: Wire,
  capabilities: Capabilities,
  credentials: Credentials,
  options: AuthenticateOptions,
): Promise<string> {
  const { mechanism, context } = pick(wire, capabilities, credentials, options);
  const client = createSaslClient(mechanism, credentials, context);
  const first = await exchange(wire, client, options);
  if (first === 'ok') return mechanism;
  // OAuth: the server explained why the token failed; ask the provider for a fresh one, once.
  if (
    client.errorChallenge &&
    'accessToken' in credentials &&
    typeof credentials.accessToken === 'function'
  ) {
    const retry = createSaslClient(mechanism, credentials, { ...context, refreshToken: true });
    const second = await exchange(wire, retry, options);
    if (second === 'ok') return mechanism;
    throw authRejection(second, mechanism, options.label);
  }
  throw authRejection(first, mechanism, options.label);
}

/** The mechanism to use and its context (channel binding), or why there is none. */
function pick(
  wire: Wire,
  capabilities: Capabilities,
  credentials: Credentials,
  options: AuthenticateOptions,
): { mechanism: string; context: Parameters<typeof createSaslClient>[2] } {
  if (capabilities.auth.length === 0) {
    throw new AuthError('EAUTH_UNSUPPORTED', `${options.label} does not offer AUTH`, {
      phase: 'auth',
      hint: wire.tls
        ? 'this port may not be for submission; try port 587 or 465'
        : 'many servers offer AUTH only after STARTTLS',
    });
  }
  const preferred =
    options.authMethod === undefined
      ? undefined
      : typeof options.authMethod === 'string'
        ? [options.authMethod]
        : options.authMethod;
  // Only SCRAM can bind to the channel; exporting keying material costs CPU on every connection otherwise.
  const scramOffered = capabilities.auth.some((m) => m.startsWith('SCRAM-'));
  const bindings =
    wire.tls && scramOffered ? channelBindings(options.secure as Parameters<typeof channelBindings>[0]) : {};
  const binding: ChannelBinding | undefined = bindings['tls-exporter']
    ? { type: 'tls-exporter', data: bindings['tls-exporter'] }
    : bindings['tls-server-end-point']
      ? { type: 'tls-server-end-point', data: bindings['tls-server-end-point'] }
      : undefined;
  const mechanism = chooseMechanism(capabilities.auth, credentials, {
    preferred,
    channelBinding: binding !== undefined,
  });
  if (!mechanism) {
    throw new AuthError(
      'EAUTH_UNSUPPORTED',
      preferred
        ? `${options.label} does not offer ${preferred.join(' or ')} (it offers ${capabilities.auth.join(', ')})`
        : `${options.label} offers no mechanism usable with these credentials (it offers ${capabilities.auth.join(', ')})`,
      { phase: 'auth', hint: 'pick one of the offered mechanisms with `authMethod`' },
    );
  }
  // RFC 5802 §6: a SCRAM client that could bind but picks the non-PLUS variant says "y" (I could, you can't).
  // If the server does offer the -PLUS sibling that "y" would fail the login, so then claim no binding ("n").
  const plusOffered = capabilities.auth.includes(`${mechanism}-PLUS`);
  const useBinding = mechanism.endsWith('-PLUS') || !plusOffered ? binding : undefined;
  return { mechanism, context: { channelBinding: useBinding, host: options.host, port: options.port } };
}

async function exchange(wire: Wire, client: SaslClient, options: AuthenticateOptions): Promise<'ok' | Reply> {
  const mechanism = client.mechanism;
  let pending = await client.initialResponse();
  if (pending !== undefined && commands.initialResponseFits(mechanism, pending.toString('base64'))) {
    wire.write(commands.auth(mechanism, pending.toString('base64')), `AUTH ${mechanism} ${REDACTED}`);
    pending = undefined;
  } else {
    // No initial response, or one too long for a 512-octet command line (RFC 4954 §4): wait for "334 ".
    wire.write(commands.auth(mechanism));
  }
  for (let round = 0; round < 16; round++) {
    const reply = await wire.read('auth', options.timeout);
    if (reply.code === 235) {
      client.finish();
      return 'ok';
    }
    if (reply.code !== 334) return reply;
    const text = (reply.lines[0] ?? '').trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      // RFC 4954 §4: a malformed challenge is answered with "*" to cancel.
      wire.write(commands.saslCancel());
      await wire.read('auth', options.timeout).catch(() => undefined);
      throw new ProtocolError('EAUTH_PROTOCOL', `${options.label} sent a challenge that is not base64`, {
        phase: 'auth',
      });
    }
    let response: Buffer;
    try {
      response = pending ?? (await client.respond(Buffer.from(text, 'base64')));
      pending = undefined;
    } catch (err) {
      wire.write(commands.saslCancel());
      await wire.read('auth', options.timeout).catch(() => undefined);
      throw err;
    }
    wire.write(commands.saslResponse(response.toString('base64')), REDACTED);
  }
  throw new ProtocolError('EAUTH_PROTOCOL', `${options.label} never ended the AUTH exchange`, {
    phase: 'auth',
  });
}
