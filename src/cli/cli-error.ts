/**
 * An error the command line itself raises (a bad flag, a missing file, a refused --password), carrying the exit
 * code it ends with. Library errors stay PosternErrors and are mapped by exit-codes.ts.
 */

export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(exitCode: number, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}
