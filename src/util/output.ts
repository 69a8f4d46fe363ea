// Writing outputs: directories created without spinning on odd paths, files replaced atomically.
import { chmodSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InputError } from './errors.ts';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'error';

/**
 * Makes sure `dir` is a directory, creating it and its missing parents one by one (Node's
 * `mkdirSync(recursive)` loops forever on paths like /proc/x). `flag` names the option in errors.
 */
export function ensureDir(dir: string, flag: string): void {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(cur).isDirectory();
    } catch (e) {
      if (code(e) !== 'ENOENT') throw new InputError(`${flag} ${dir}: cannot use ${cur} (${code(e)})`);
      missing.push(cur);
      const up = dirname(cur);
      if (up === cur) break;
      cur = up;
      continue;
    }
    if (!isDir)
      throw new InputError(`${flag} ${dir}: ${cur === resolve(dir) ? 'exists and is not a directory' : `${cur} is not a directory`}`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw new InputError(`${flag} ${dir}: cannot create ${d} (${code(e)})`);
    }
  }
}

export interface OutFile {
  path: string;
  body: string;
  /** File mode, also applied when the file existed (0600 for anything holding a private key). */
  mode: number;
}

/**
 * Writes every file or none: all bodies go to temporary files first, which are then renamed over
 * the targets (so an existing file also gets the new mode). `flag` names the option in errors.
 */
export function writeFilesAtomic(files: readonly OutFile[], flag: string): void {
  const temps: string[] = [];
  const tmpOf = (p: string) => join(dirname(p), `.${p.slice(dirname(p).length + 1)}.tmp-${process.pid}`);
  try {
    for (const f of files) {
      const tmp = tmpOf(f.path);
      writeFileSync(tmp, f.body, { mode: f.mode });
      temps.push(tmp);
      chmodSync(tmp, f.mode);
    }
  } catch (e) {
    for (const t of temps) rmQuiet(t);
    throw new InputError(`${flag}: cannot write ${files[temps.length]?.path ?? ''} (${code(e)}); nothing was written`);
  }
  for (const f of files) {
    try {
      renameSync(tmpOf(f.path), f.path);
    } catch (e) {
      for (const t of temps) rmQuiet(t);
      throw new InputError(`${flag}: cannot write ${f.path} (${code(e)})`);
    }
  }
}

export function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
