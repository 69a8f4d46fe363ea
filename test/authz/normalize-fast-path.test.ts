// The plain-path shortcut of normalizePath (issue 12 §4 speed) returns what the full normalization
// returns, in every mode, for plain paths and for near misses (dots, escapes, empty segments, queries).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath, normalizeUncached } from '../../src/authz/match.ts';

const MODES = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;

test('normalizePath equals the uncached normalization on generated paths', () => {
  const alphabet = ['a', 'Z', '0', '-', '_', '~', '/', '/', '.', '%2f', '%41', '\\', '?q', '#f', '//'];
  let seed = 12;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const paths = ['/', '', 'a', '/a/b/', '/tenant-0-ns-0/default', '/a//b', '/a/./b', '/a/../b'];
  for (let i = 0; i < 3000; i++) {
    let p = rnd(4) === 0 ? '' : '/';
    for (let j = rnd(8); j > 0; j--) p += alphabet[rnd(alphabet.length)];
    paths.push(p);
  }
  for (const mode of MODES)
    for (const p of paths) assert.equal(normalizePath(p, mode), normalizeUncached(p, mode), `${mode} ${JSON.stringify(p)}`);
});
