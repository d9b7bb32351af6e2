// Shared by the SASL server tests: an in-memory credential store and a driver that runs one of Postern's client
// halves against a server half the way SMTP AUTH would (334 challenges, server-final as a 334, error challenges).
import { Secret } from '../../../src/core/secret.js';
import {
  DEFAULT_SCRAM_ITERATIONS,
  type SaslClient,
  type SaslCredentialStore,
  type SaslFailureReason,
  type SaslServer,
  type SaslServerStep,
  type ScramHashName,
  type ScramStoredCredentials,
} from '../../../src/sasl/index.js';
import { deriveScramCredentials } from '../../../src/server/password-hash.js';

export const SECRET_FOR_FAKE_SALTS = Buffer.alloc(32, 0x5a);

export type Outcome =
  | { readonly outcome: 'success'; readonly user: string; readonly authzid?: string | undefined }
  | { readonly outcome: 'failure'; readonly reason: SaslFailureReason }
  | { readonly outcome: 'client-error'; readonly error: unknown };

export type Transcript = Outcome & {
  readonly steps: readonly SaslServerStep[];
  /** What the client sent (initial response first, when there was one). */
  readonly responses: readonly Buffer[];
};

/** Runs client against server to the end; never throws. */
export async function runExchange(client: SaslClient, server: SaslServer): Promise<Transcript> {
  const steps: SaslServerStep[] = [];
  const responses: Buffer[] = [];
  const end = (outcome: Outcome): Transcript => ({ ...outcome, steps, responses });
  const answer = async (challenge: Buffer): Promise<Buffer> => {
    const response = await client.respond(challenge);
    responses.push(response);
    return response;
  };
  try {
    const initial = await client.initialResponse();
    if (initial !== undefined) responses.push(initial);
    let step = await server.start(initial);
    steps.push(step);
    for (let round = 0; round < 10; round++) {
      if (step.type === 'success' && step.data === undefined) {
        client.finish();
        return end({ outcome: 'success', user: step.user, authzid: step.authzid });
      }
      if (step.type === 'failure' && step.errorChallenge === undefined) {
        return end({ outcome: 'failure', reason: step.reason });
      }
      const challenge =
        step.type === 'challenge' ? step.data : step.type === 'success' ? step.data! : step.errorChallenge!;
      step = await server.next(await answer(challenge));
      steps.push(step);
    }
    throw new Error('the exchange did not end within 10 rounds');
  } catch (error) {
    return end({ outcome: 'client-error', error });
  }
}

export interface MemoryUser {
  readonly password: string;
  /** Overrides the SCRAM iteration count (e.g. too few, to test the floor). */
  readonly iterations?: number;
  readonly token?: string;
}

/** What a test store was asked, to check that unknown users cause the same calls. */
export interface StoreCall {
  readonly method: string;
  readonly user: string;
}

/** A store over plain passwords, with SCRAM keys derived up front, recording each call. */
export async function memoryStore(
  users: Readonly<Record<string, MemoryUser>>,
  options: { readonly calls?: StoreCall[] } = {},
): Promise<Required<SaslCredentialStore>> {
  const scram = new Map<string, ScramStoredCredentials>();
  for (const [name, user] of Object.entries(users)) {
    for (const hash of ['SHA-1', 'SHA-256'] as const) {
      const iterations = user.iterations ?? DEFAULT_SCRAM_ITERATIONS[hash];
      // The floor is enforced when deriving, so a weak entry is built by hand from a valid one.
      const derived = await deriveScramCredentials(user.password, hash, {
        iterations: Math.max(iterations, 4096),
      });
      scram.set(`${hash} ${name}`, { ...derived, iterations });
    }
  }
  const log = (method: string, user: string) => options.calls?.push({ method, user });
  return {
    async verifyPassword(user: string, password: Secret) {
      log('verifyPassword', user);
      return users[user]?.password === password.reveal();
    },
    async scramCredentials(user: string, hash: ScramHashName) {
      log('scramCredentials', user);
      return scram.get(`${hash} ${user}`);
    },
    async plaintextPassword(user: string) {
      log('plaintextPassword', user);
      const password = users[user]?.password;
      return password === undefined ? undefined : new Secret(password);
    },
    async verifyToken(user: string, token: Secret, mechanism: 'XOAUTH2' | 'OAUTHBEARER') {
      log(`verifyToken ${mechanism}`, user);
      const expected = users[user]?.token;
      return expected !== undefined && expected === token.reveal()
        ? true
        : { status: 'invalid_token', scope: 'https://mail.example/' };
    },
  };
}

export const text = (buffer: Buffer | undefined): string | undefined => buffer?.toString('utf8');
export const bytes = (value: string): Buffer => Buffer.from(value, 'utf8');
