import { InvalidArgumentError, Option } from 'commander';

export type OutputFormat = 'yaml' | 'json' | 'text' | 'sarif';

/**
 * `-o, --output <format>` as in kubectl: the output format, in every command. A value that looks
 * like a path gets a hint, since `-o DIR` used to be the output directory.
 */
export function outputOption<F extends OutputFormat>(choices: readonly F[], dflt: F, dirFlag = '--output-dir'): Option {
  return new Option('-o, --output <format>', `output format: ${choices.join(', ')}`)
    .default(dflt)
    .argParser((v: string) => {
      if ((choices as readonly string[]).includes(v)) return v as F;
      const hint = /[/.]/.test(v) || v === '' ? `; -o is the output format, for a directory use ${dirFlag} ${v}` : '';
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}${hint}`);
    });
}
