import { Argument, type Command } from 'commander';
import { complete, COMPLETE_COMMAND, completionScript, formatCompletion, SHELLS, type Shell } from './completion.ts';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish (candidates come from the installed command tree)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell));
    });

  // What the scripts and kubectl's plugin helper (bin/kubectl_complete-serverless_mesh.js) call.
  // main() runs it before commander parses (the words are the user's, not options of ours);
  // registered so `--help` lists it nowhere but the tree knows it.
  program
    .command(COMPLETE_COMMAND, { hidden: true })
    .description('print completion candidates for the words after the program name (the last one is being completed)')
    .argument('[words...]', 'the command line so far')
    .action((words: string[] = []) => {
      process.stdout.write(formatCompletion(complete(program, words)));
    });
}
