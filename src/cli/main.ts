import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';
import { registerCommands } from './commands.ts';

/** Builds the command tree. Each capability registers its subcommands in ./commands.ts. */
export function buildProgram(): Command {
  const program = new Command()
    .name('serverless-mesh')
    .description('Render, check, apply and verify Knative inside an Istio service mesh')
    .version('0.1.0')
    .option('--kubeconfig <path>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** CLI entry: returns the process exit code. Data goes to stdout, diagnostics to stderr. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version or a usage error)
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
