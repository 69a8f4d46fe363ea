import { ExitCode } from './exit-codes.ts';

let result: ExitCode | undefined;

/**
 * Wraps a command action that returns its exit code (commander ignores an action's return value):
 * main() reads it with takeResult() after parsing, so no command sets process.exitCode.
 */
export function returnsCode<A extends unknown[]>(fn: (...args: A) => Promise<ExitCode | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    result = (await fn(...args)) ?? ExitCode.Ok;
  };
}

/** The code the last action returned (once), or undefined when no returnsCode action ran. */
export function takeResult(): ExitCode | undefined {
  const r = result;
  result = undefined;
  return r;
}
