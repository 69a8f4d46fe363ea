import { InvalidArgumentError, Option } from 'commander';

export type OutputFormat = 'yaml' | 'json' | 'text' | 'sarif' | 'html';

/**
 * `-o, --output <format>` as in kubectl: the output format, in every command. A value that looks
 * like a path gets a hint, since `-o DIR` used to be the output directory.
 */
export function outputOption<F extends OutputFormat>(choices: readonly F[], dflt: F, dirFlag = '--output-dir'): Option {
  const option = new Option('-o, --output <format>', `output format: ${choices.join(', ')}`).default(dflt).argParser((v: string) => {
    if ((choices as readonly string[]).includes(v)) return v as F;
    const what = dirFlag.endsWith('-file') ? 'a file' : 'a directory';
    const hint = /[/.]/.test(v) || v === '' ? `; -o is the output format, for ${what} use ${dirFlag} ${v}` : '';
    throw new InvalidArgumentError(`expected one of ${choices.join(', ')}${hint}`);
  });
  VALUE_CHOICES.set(option, choices);
  return option;
}

/**
 * The values of options that check them in their own parser (not commander's `.choices()`, which
 * would replace the parser): shell completion offers them (./completion.ts).
 */
export const VALUE_CHOICES = new WeakMap<Option, readonly string[]>();

/** The values an option accepts, when it says: commander's choices, else VALUE_CHOICES. */
export const choicesOf = (o: Option): readonly string[] | undefined => o.argChoices ?? VALUE_CHOICES.get(o);
