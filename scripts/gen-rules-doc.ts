// Writes docs/rules.md from the rules' metadata: `node --import tsx scripts/gen-rules-doc.ts`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rulesMarkdown } from '../src/check/catalogue.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'rules.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, rulesMarkdown());
process.stdout.write(`wrote ${out}\n`);
