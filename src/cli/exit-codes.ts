import { CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';

/**
 * The process exit codes of every command (kubectl conventions). The only place they are defined:
 * library code throws typed errors (util/errors.ts) and `exitCodeFor` maps them.
 */
export enum ExitCode {
  /** Success; for diff/verify/check: no differences, no findings. */
  Ok = 0,
  /** diff: the cluster differs from the spec; verify/check: findings. */
  Differences = 1,
  /** Bad input or usage: a spec, manifest, flag or path the command cannot use. */
  BadInput = 2,
  /** The cluster, the network or permissions: unreachable, 401/403, rejected, timed out. */
  Cluster = 3,
  /** A bug in serverless-mesh (an unexpected exception; the stack trace is printed). */
  Internal = 4,
  /** Interrupted (SIGINT, Ctrl-C) after cleaning up what the run created (shell convention 128 + 2). */
  Interrupted = 130,
}

/** One line per code for `--help` (src/cli/help.ts); a command may say what Differences means for it. */
export const EXIT_CODE_MEANING: Readonly<Record<ExitCode, string>> = {
  [ExitCode.Ok]: 'success',
  [ExitCode.Differences]: 'differences or findings',
  [ExitCode.BadInput]: 'bad input or usage (a spec, manifest, flag or path the command cannot use)',
  [ExitCode.Cluster]: 'the cluster, the network or permissions (unreachable, 401/403, rejected, timed out)',
  [ExitCode.Internal]: 'internal error (a bug in serverless-mesh; the stack trace is printed)',
  [ExitCode.Interrupted]: 'interrupted (Ctrl-C) after cleaning up what the run created',
};

/** The exit code for an error that ended a command. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
  if (err instanceof UserError) return err.kind === 'cluster' ? ExitCode.Cluster : ExitCode.BadInput;
  return ExitCode.Internal;
}
