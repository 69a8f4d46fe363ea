import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpecFile } from '../../src/api/load.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';

/** Repository root and the `../shared` folder beside it (read in place, never copied). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(ROOT, '../shared');

export const sharedFile = (...parts: string[]) => join(SHARED, ...parts);
export const readShared = (...parts: string[]) => readFileSync(sharedFile(...parts), 'utf8');
export const example = (name: string): ServerlessMesh => loadSpecFile(join(ROOT, 'examples', `${name}.yaml`));
/** Every example spec (examples/*.yaml, without the extension): tests that iterate examples take them all. */
export const EXAMPLES: readonly string[] = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

/** Fixed TLS material so renders with `tls.generate` are deterministic in tests. */
export const TEST_TLS = {
  certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
};
