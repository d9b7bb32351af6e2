/**
 * What every server mechanism shares: the exchange's outer states (not started, in progress, confirming a
 * success, explaining a failure, done), the rule that start()/next() never reject, and the preparation of
 * what the client sends.
 */
import { isUtf8 } from 'node:buffer';
import { inspect } from 'node:util';
import { AuthError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { saslprep } from './saslprep.js';
import type { SaslFailureReason, SaslServer, SaslServerStep } from './server-types.js';

type OuterState =
  | { readonly step: 'ready' }
  | { readonly step: 'exchanging' }
  | { readonly step: 'busy' }
  /** A success with data was sent as 334; the client's empty answer completes it. */
  | { readonly step: 'confirming'; readonly user: string; readonly authzid: string | undefined }
  /** A failure with an error challenge was sent as 334; the client's answer ends it. */
  | { readonly step: 'explaining'; readonly reason: SaslFailureReason }
  | { readonly step: 'done' };

/** A credential store that failed (threw or rejected, even with an AuthError): "try later", not "malformed". */
class StoreUnavailable extends Error {}

export abstract class SaslServerBase implements SaslServer {
  abstract readonly mechanism: string;
  #state: OuterState = { step: 'ready' };

  /** The mechanism's first step; throw AuthError for a malformed message. */
  protected abstract begin(initialResponse: Buffer | undefined): Promise<SaslServerStep>;

  /** The mechanism's next step, while it is exchanging challenges. */
  protected abstract continue(response: Buffer): Promise<SaslServerStep>;

  start(initialResponse: Buffer | undefined): Promise<SaslServerStep> {
    if (this.#state.step !== 'ready') return Promise.resolve(this.#misuse());
    return this.#run(() => this.begin(initialResponse));
  }

  next(response: Buffer): Promise<SaslServerStep> {
    const state = this.#state;
    switch (state.step) {
      case 'exchanging':
        return this.#run(() => this.continue(response));
      case 'confirming':
        this.#state = { step: 'done' };
        return Promise.resolve(
          Buffer.isBuffer(response) && response.length === 0
            ? success(state.user, state.authzid)
            : failure('protocol'),
        );
      case 'explaining':
        this.#state = { step: 'done' };
        return Promise.resolve(failure(state.reason));
      default:
        return Promise.resolve(this.#misuse());
    }
  }

  toJSON(): { mechanism: string } {
    return { mechanism: this.mechanism };
  }

  [inspect.custom](): string {
    return `SaslServer(${this.mechanism})`;
  }

  async #run(step: () => Promise<SaslServerStep>): Promise<SaslServerStep> {
    this.#state = { step: 'busy' };
    let result: SaslServerStep;
    try {
      result = await step();
    } catch (err) {
      // A malformed message is the client's fault; anything else (the store, or a bug) is ours to retry.
      result = failure(err instanceof AuthError ? 'protocol' : 'temporary');
    }
    // A call that overlapped this one has already ended the exchange.
    if (this.#state.step === 'busy') this.#state = stateAfter(result);
    return result;
  }

  /** start() twice, next() before start() or after the end, or overlapping calls: a bug in the caller. */
  #misuse(): SaslServerStep {
    this.#state = { step: 'done' };
    return failure('protocol');
  }
}

function stateAfter(step: SaslServerStep): OuterState {
  if (step.type === 'challenge') return { step: 'exchanging' };
  if (step.type === 'success' && step.data !== undefined) {
    return { step: 'confirming', user: step.user, authzid: step.authzid };
  }
  if (step.type === 'failure' && step.errorChallenge !== undefined) {
    return { step: 'explaining', reason: step.reason };
  }
  return { step: 'done' };
}

/** Calls the credential store; whatever it throws makes the exchange end in a 'temporary' failure. */
export async function askStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new StoreUnavailable('the credential store failed', { cause });
  }
}

export function challenge(data: Buffer | string): SaslServerStep {
  return { type: 'challenge', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data };
}

/** `authzid` is kept only when it names someone other than `user` (RFC 4616 §2: empty means "as myself"). */
export function success(user: string, authzid?: string, data?: Buffer): SaslServerStep {
  const actAs = authzid === undefined || authzid === '' || authzid === user ? undefined : authzid;
  return {
    type: 'success',
    user,
    ...(actAs === undefined ? {} : { authzid: actAs }),
    ...(data === undefined ? {} : { data }),
  };
}

export function failure(reason: SaslFailureReason, errorChallenge?: Buffer): SaslServerStep {
  return { type: 'failure', reason, ...(errorChallenge === undefined ? {} : { errorChallenge }) };
}

/**
 * SASLprep of a user name the client sent (a "query" string, RFC 4013 §2.5 / RFC 5802 §5.1), as the client
 * halves prepare it. Undefined when it cannot be prepared: no stored user can have such a name.
 */
export function prepareUsername(name: string): string | undefined {
  try {
    const prepared = saslprep(name, { allowUnassigned: true, label: 'user name' });
    return prepared === '' ? undefined : prepared;
  } catch {
    return undefined;
  }
}

/** SASLprep of a password the client sent; undefined when it cannot be prepared (so it matches no one). */
export function preparePassword(password: string): Secret | undefined {
  try {
    const prepared = saslprep(password, { allowUnassigned: true, label: 'password' });
    return prepared === '' ? undefined : new Secret(prepared);
  } catch {
    return undefined;
  }
}

/** Strict UTF-8 decoding of a client message; throws AuthError 'EAUTH_PROTOCOL'. */
export function decodeUtf8(message: Buffer, mechanism: string): string {
  if (!isUtf8(message)) throw malformed(mechanism, 'it is not UTF-8');
  return message.toString('utf8');
}

export function malformed(mechanism: string, why: string): AuthError {
  return new AuthError('EAUTH_PROTOCOL', `malformed ${mechanism} message: ${why}`);
}
