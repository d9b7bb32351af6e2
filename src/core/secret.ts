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

/** Replaces userinfo passwords in a URL string, e.g. for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  });
}
