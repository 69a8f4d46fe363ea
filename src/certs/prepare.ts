import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerlessMesh } from '../api/types.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import { InputError } from '../util/errors.ts';
import { ensureDir } from '../util/output.ts';
import { writeCertFiles } from './write.ts';

/**
 * TLS material for render when `spec.tls.generate` is set. With `certsDir`, an existing
 * wildcard.crt/wildcard.key pair there is reused (so repeated renders are identical) after checking
 * that it is a PEM certificate for `*.<domain>` and its own key; a new one is written there otherwise.
 * Without it a fresh pair is generated in memory.
 */
export async function prepareTls(mesh: ServerlessMesh, certsDir?: string): Promise<TlsMaterial | undefined> {
  const spec = mesh.spec;
  if (!spec.tls.generate) return undefined;
  const domain = spec.domain as string;
  if (certsDir) {
    ensureDir(certsDir, '--certs-dir');
    const crt = join(certsDir, 'wildcard.crt');
    const key = join(certsDir, 'wildcard.key');
    if (existsSync(crt) || existsSync(key)) {
      if (!existsSync(crt) || !existsSync(key)) {
        throw new InputError(`--certs-dir ${certsDir}: has only one of wildcard.crt and wildcard.key; remove it or add the other`);
      }
      const material = { certPem: readText(crt), keyPem: readText(key) };
      checkReusable(material, domain, crt, key);
      return material;
    }
  }
  // Loaded on demand: the x509 stack costs start-up time that renders reusing certificates never need.
  const { generateWildcardCerts } = await import('./generate.ts');
  const certs = await generateWildcardCerts(domain);
  if (certsDir) writeCertFiles(certsDir, certs, { flag: '--certs-dir' });
  return { certPem: certs.wildcardCertPem, keyPem: certs.wildcardKeyPem };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`--certs-dir: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** A reused pair must be a PEM certificate for `*.<domain>`, unexpired, with its own private key. */
export function checkReusable(m: TlsMaterial, domain: string, crtPath: string, keyPath: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(m.certPem);
  } catch {
    throw new InputError(`--certs-dir: ${crtPath} is not a PEM certificate`);
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(m.certPem)) throw new InputError(`--certs-dir: ${crtPath} is not a PEM certificate`);
  let key;
  try {
    key = createPrivateKey(m.keyPem);
  } catch {
    throw new InputError(`--certs-dir: ${keyPath} is not a PEM private key`);
  }
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  if (!names.includes(`*.${domain}`)) {
    throw new InputError(
      `--certs-dir: ${crtPath} is for ${names.join(', ') || cert.subject.replace(/\n/g, ', ')}, not *.${domain}; use another --certs-dir or remove the wildcard.* files there`,
    );
  }
  if (!cert.checkPrivateKey(key)) throw new InputError(`--certs-dir: ${keyPath} is not the private key of ${crtPath}`);
  if (new Date(cert.validTo).getTime() < Date.now())
    throw new InputError(`--certs-dir: ${crtPath} expired on ${cert.validTo}; remove the wildcard.* files there to get a new one`);
}
