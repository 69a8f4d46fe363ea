// Reading one input file, or stdin for `-`, with a size cap (`-f /dev/zero` must not eat the memory).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.ts';
import { YAML_LIMITS } from './yaml-source.ts';

/** The name `-` stands for stdin in every `-f`/`-m`/file argument. */
export const STDIN = '-';
let stdinText: string | undefined;

/**
 * The text of `path` (`-`: stdin, read once and remembered), at most `maxBytes`. `what` names the
 * input in the one-line error ("spec file", "manifest"…). Throws InputError for anything unreadable.
 */
export function readInput(path: string, what = 'file', maxBytes = YAML_LIMITS.maxBytes): string {
  if (path === STDIN) return (stdinText ??= readFd(0, '<stdin>', what, maxBytes));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    if (fstatSync(fd).isDirectory()) throw new InputError(`${path}: cannot read ${what} (is a directory)`);
    return readFd(fd, path, what, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function readFd(fd: number, name: string, what: string, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking stdin (some terminals, pipes from node): wait a moment and retry.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === 'EOF') break;
      throw new InputError(`${name}: cannot read ${what} (${code ?? 'error'})`);
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes)
      throw new InputError(`${name}:1:1: ${what} larger than ${Math.round(maxBytes / 1048576)} MiB: refusing to read more`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Display name of an input path in messages. */
export const inputName = (path: string) => (path === STDIN ? '<stdin>' : path);
