// Writes deploy/crd.yaml from the spec schema (src/controller/crd.ts). Run after changing src/api/schema.ts:
//   node --import tsx scripts/gen-crd.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crdFileText } from '../src/controller/crd-file.ts';

writeFileSync(fileURLToPath(new URL('../deploy/crd.yaml', import.meta.url)), crdFileText());
