import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.ts';
import { ensureDir, writeFilesAtomic } from '../util/output.ts';
import type { GeneratedCerts } from './generate.ts';

export const CERT_FILES = ['root.crt', 'root.key', 'wildcard.crt', 'wildcard.key'] as const;

/**
 * Writes root.crt, root.key, wildcard.crt, wildcard.key into `dir` (all or none). Keys get mode
 * 0600, whether the file is new or not. Existing files are refused unless `overwrite`: a new
 * root.key silently replacing the old one invalidates everything the old CA signed. Returns the paths.
 */
export function writeCertFiles(dir: string, certs: GeneratedCerts, opts: { flag?: string; overwrite?: boolean } = {}): string[] {
  const flag = opts.flag ?? '--output-dir';
  ensureDir(dir, flag);
  const existing = CERT_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length && !opts.overwrite) {
    throw new InputError(
      `${flag} ${dir}: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; pass --overwrite to replace them (a new root CA invalidates what the old one signed)`,
    );
  }
  const files = [
    { path: join(dir, 'root.crt'), body: certs.rootCertPem, mode: 0o644 },
    { path: join(dir, 'root.key'), body: certs.rootKeyPem, mode: 0o600 },
    { path: join(dir, 'wildcard.crt'), body: certs.wildcardCertPem, mode: 0o644 },
    { path: join(dir, 'wildcard.key'), body: certs.wildcardKeyPem, mode: 0o600 },
  ];
  writeFilesAtomic(files, flag);
  return files.map((f) => f.path);
}
