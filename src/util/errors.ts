/**
 * An error caused by the user's input or environment (bad spec, unreachable cluster, conflict).
 * The CLI prints `message` as one line to stderr (no stack) and exits with `exitCode`.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Several input errors reported together (e.g. every problem in a spec file), one per line. */
export class InputErrors extends UserError {
  readonly lines: string[];
  constructor(lines: string[], exitCode = 2) {
    super(lines.join('\n'), exitCode);
    this.name = 'InputErrors';
    this.lines = lines;
  }
}
