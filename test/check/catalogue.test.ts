import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { it } from 'node:test';
import { rulesMarkdown } from '../../src/check/catalogue.ts';
import { RETIRED, RULES } from '../../src/check/registry.ts';
import { VERIFY_RULES } from '../../src/verify/findings.ts';
import { ROOT } from '../helpers/shared.ts';

it('docs/rules.md is generated from the metadata (run: node --import tsx scripts/gen-rules-doc.ts)', () => {
  assert.equal(readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8'), rulesMarkdown());
});

it('codes are SM + 4 digits, unique across rules, verify and retired codes', () => {
  const codes = [...RULES.map((r) => r.meta.code), ...Object.values(VERIFY_RULES).map((v) => v.code), ...RETIRED.map((r) => r.code)];
  for (const c of codes) assert.match(c, /^SM\d{4}$/);
  // required-edge-blocked and cross-tenant-leak share verify's codes on purpose: same finding, two commands.
  const shared = new Set<string>(Object.values(VERIFY_RULES).map((v) => v.code));
  const own = RULES.map((r) => r.meta.code).filter((c) => !shared.has(c));
  assert.equal(new Set(own).size, own.length);
  assert.equal(new Set(RETIRED.map((r) => r.code)).size, RETIRED.length);
  for (const r of RETIRED) assert.ok(!codes.filter((c) => c === r.code).slice(1).length, `${r.code} reused`);
});

it('one file per rule, named after the rule; metadata complete', () => {
  const files = readdirSync(join(ROOT, 'src', 'check', 'rules'))
    .filter((f) => f !== 'ksvc-mesh.ts')
    .map((f) => basename(f, '.ts'))
    .sort();
  assert.deepEqual(files, RULES.map((r) => r.meta.name).sort());
  for (const r of RULES) {
    for (const k of ['title', 'description', 'source', 'fix'] as const) assert.ok(r.meta[k].length > 0, `${r.meta.code} ${k}`);
    assert.ok(r.meta.inputs.length > 0, `${r.meta.code} inputs`);
  }
});
