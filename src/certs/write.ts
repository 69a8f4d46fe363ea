import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratedCerts } from './generate.ts';

/**
 * Writes root.crt, root.key, wildcard.crt, wildcard.key into `dir`. Keys are created with mode
 * 0600 (and chmod'ed, since `mode` only applies to a new file). Returns the paths written.
 */
export function writeCertFiles(dir: string, certs: GeneratedCerts): string[] {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string, number]> = [
    ['root.crt', certs.rootCertPem, 0o644],
    ['root.key', certs.rootKeyPem, 0o600],
    ['wildcard.crt', certs.wildcardCertPem, 0o644],
    ['wildcard.key', certs.wildcardKeyPem, 0o600],
  ];
  return files.map(([name, pem, mode]) => {
    const path = join(dir, name);
    writeFileSync(path, pem, { mode });
    chmodSync(path, mode);
    return path;
  });
}
