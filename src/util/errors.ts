/**
 * Errors the user can act on. Library code throws these typed errors and never picks an exit
 * code: the CLI maps each class to one (src/cli/exit-codes.ts). The message is printed as is, one
 * line per problem, without a stack.
 *
 * - InputError / InputErrors: bad input or usage (a spec, a manifest, a flag value, a path).
 * - ClusterError: the cluster, the network or permissions (unreachable, 401/403, rejected, timed out).
 */
export type ErrorKind = 'input' | 'cluster';

export class UserError extends Error {
  readonly kind: ErrorKind;
  /** Set when the message was printed already (e.g. in apply's summary): the CLI does not repeat it. */
  reported = false;
  /**
   * `kind` may still be given as the old numeric exit code (2 input, anything else cluster) by
   * callers not yet converted; prefer InputError / ClusterError.
   */
  constructor(message: string, kind: ErrorKind | number = 'input', options?: { cause?: unknown }) {
    super(oneLinePerProblem(message), options);
    this.name = 'UserError';
    this.kind = typeof kind === 'number' ? (kind === 2 ? 'input' : 'cluster') : kind;
  }
}

/** Bad input or usage: a file, a flag, a value. */
export class InputError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'input', options);
    this.name = 'InputError';
  }
}

/** Several input errors reported together (e.g. every problem in a spec file), one per line. */
export class InputErrors extends InputError {
  readonly lines: string[];
  constructor(lines: string[]) {
    const clean = lines.map((l) => sanitizeLine(l));
    super(clean.join('\n'));
    this.name = 'InputErrors';
    this.lines = clean;
  }
}

/** The cluster, the network or permissions: unreachable, unauthorized, forbidden, rejected, timed out. */
export class ClusterError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'cluster', options);
    this.name = 'ClusterError';
  }
}

/**
 * One printable line: control characters (newlines, ANSI escapes, NUL…) become visible escapes so a
 * hostile key can neither split an error over several lines nor reach the terminal raw; very long
 * lines are clipped.
 */
export function sanitizeLine(line: string, max = 2000): string {
  // Also invisible and bidirectional-override characters, which would make the line lie about its text.
  // eslint-disable-next-line no-control-regex
  let out = line.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  if (out.length > max) out = `${out.slice(0, max)}… (${out.length - max} more characters)`;
  return out;
}

/** Each line sanitized on its own (messages of several problems keep their line breaks). */
function oneLinePerProblem(message: string): string {
  return message
    .split('\n')
    .map((l) => sanitizeLine(l))
    .join('\n');
}
