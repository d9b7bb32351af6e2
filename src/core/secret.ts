import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A string that never shows itself: not in `util.inspect`, `JSON.stringify`, template strings or logs.
 * Read it deliberately with `reveal()`.
 *
 * @example const pass = new Secret(process.env.SMTP_PASS ?? ''); pass.reveal();
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The actual value; call only where it goes to the wire. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }

  static from(value: string | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value);
  }
}

export type SecretLike = string | Secret;

export function revealSecret(value: SecretLike): string {
  return typeof value === 'string' ? value : value.reveal();
}

/**
 * Defines non-enumerable getters on `target` for each secret-bearing key, so `util.inspect` and
 * `JSON.stringify` of an options object never print them while property access still works.
 */
export function hideSecretFields<T extends object>(target: T, keys: readonly (keyof T)[]): T {
  for (const key of keys) {
    const desc = Object.getOwnPropertyDescriptor(target, key);
    if (!desc || !('value' in desc) || desc.value === undefined) continue;
    const value = desc.value as unknown;
    Object.defineProperty(target, key, { value, enumerable: false, writable: false, configurable: true });
  }
  return target;
}

/** Replaces userinfo passwords in a URL string, e.g. for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  });
}

export const REDACTED_TEXT = REDACTED;
