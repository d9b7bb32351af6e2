// Shared by the SASL tests: matches an AuthError by code for assert.throws / assert.rejects.
import { AuthError, type ErrorCode } from '../../../src/core/errors.js';

export function authError(code: ErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err: unknown) =>
    err instanceof AuthError && err.code === code && (message === undefined || message.test(err.message));
}
