// Option-value parsers and global options shared by the commands (commander argParser functions).
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../cluster/plan.ts';

/** `--kubeconfig` / `--context`, defined on the program. */
export interface GlobalOpts {
  kubeconfig?: string;
  context?: string;
}

export function positiveInt(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return Number(v);
}

/** `90s`, `5m`, `1h30m`, `250ms` or plain seconds → milliseconds. */
export function duration(v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
