import { basename } from 'node:path';
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';
import { registerCommands } from './commands.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';
import { addHelpFooters } from './help.ts';
import { complete, COMPLETE_COMMAND, formatCompletion } from './completion.ts';

/** kubectl looks for `kubectl_complete-<plugin>` (the plugin's name, '-' as '_'). */
export const COMPLETE_HELPER_PREFIX = 'kubectl_complete-';

function runComplete(program: Command, words: string[]): number {
  process.stdout.write(formatCompletion(complete(program, words)));
  return ExitCode.Ok;
}
import { takeResult } from './action.ts';

/** Builds the command tree. Each capability registers its subcommands in ./commands.ts. */
export function buildProgram(): Command {
  const program = new Command()
    .name('serverless-mesh')
    .description('Render, check, apply and verify Knative inside an Istio service mesh')
    .version('0.1.0')
    .option('--kubeconfig <path>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .addHelpText('after', '\n`-f -` reads stdin; -o is the output format (yaml, json, text; sarif where findings are printed).')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  addHelpFooters(program);
  return program;
}

let pipeGuard = false;
/**
 * A reader that went away (`render … | head -1`) ends the run quietly, as kubectl does: no
 * EPIPE stack trace, exit 0 (the reader got what it asked for).
 */
export function exitQuietlyOnClosedPipe(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(ExitCode.Ok);
      throw e;
    });
  }
}

/** CLI entry: returns the process exit code (./exit-codes.ts). Data goes to stdout, diagnostics to stderr. */
export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedPipe();
  const program = buildProgram();
  // kubectl's plugin completion runs `kubectl_complete-serverless_mesh WORD…` (a link to this program
  // or bin/kubectl_complete-serverless_mesh.js); `__complete` takes the user's words verbatim.
  const invokedAs = [process.argv0, argv[1] ?? ''].map((p) => basename(p).replace(/\.(c|m)?js$/, ''));
  if (invokedAs.some((n) => n.startsWith(COMPLETE_HELPER_PREFIX))) return runComplete(program, argv.slice(2));
  if (argv[2] === COMPLETE_COMMAND) return runComplete(program, argv.slice(3));
  takeResult();
  try {
    await program.parseAsync(argv);
    // Commands return their code (action.ts); process.exitCode only for actions not converted yet.
    return takeResult() ?? (typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok);
  } catch (err) {
    // commander already printed its message (help, version or a usage error)
    if (err instanceof CommanderError) return exitCodeFor(err);
    if (err instanceof UserError) {
      if (!err.reported) process.stderr.write(`${err.message}\n`);
    } else process.stderr.write(`internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return exitCodeFor(err);
  }
}
