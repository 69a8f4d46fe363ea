import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerlessMesh } from '../api/types.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import { UserError } from '../util/errors.ts';
import { writeCertFiles } from './write.ts';

/**
 * TLS material for render when `spec.tls.generate` is set. With `certsDir`, an existing
 * wildcard.crt/wildcard.key pair there is reused (so repeated renders are identical) and a new
 * one is written there otherwise; without it a fresh pair is generated in memory.
 */
export async function prepareTls(mesh: ServerlessMesh, certsDir?: string): Promise<TlsMaterial | undefined> {
  const spec = mesh.spec;
  if (!spec.tls.generate) return undefined;
  if (certsDir) {
    const crt = join(certsDir, 'wildcard.crt');
    const key = join(certsDir, 'wildcard.key');
    if (existsSync(crt) || existsSync(key)) {
      if (!existsSync(crt) || !existsSync(key)) {
        throw new UserError(`${certsDir}: has only one of wildcard.crt and wildcard.key; remove it or add the other`);
      }
      return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
    }
  }
  // Loaded on demand: the x509 stack costs start-up time that renders reusing certificates never need.
  const { generateWildcardCerts } = await import('./generate.ts');
  const certs = await generateWildcardCerts(spec.domain as string);
  if (certsDir) writeCertFiles(certsDir, certs);
  return { certPem: certs.wildcardCertPem, keyPem: certs.wildcardKeyPem };
}
