// RuleTester in the typescript-eslint style: valid cases produce no finding of the rule; invalid cases
// produce exactly the listed findings (code, resource, line) — never compared on message text.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildContext, type ContextOptions } from '../../src/check/context.ts';
import { runRules } from '../../src/check/engine.ts';
import { ManifestSet } from '../../src/check/source.ts';
import type { Rule } from '../../src/check/types.ts';

export interface Expected {
  /** `Kind/namespace/name` or `Kind/name`. */
  resource: string;
  line?: number;
  code?: string;
}

export interface Case {
  name: string;
  yaml: string;
  options?: ContextOptions;
}

export function findingsFor(rule: Rule, yaml: string, options: ContextOptions = {}) {
  const set = new ManifestSet();
  set.add('case.yaml', yaml);
  assert.deepEqual(set.errors, []);
  return runRules([rule], buildContext(set.objects, options), { locate: set.locate });
}

export function ruleTester(rule: Rule, cases: { valid: Case[]; invalid: Array<Case & { errors: Expected[] }> }): void {
  for (const c of cases.valid)
    it(`${rule.meta.code} valid: ${c.name}`, () => {
      assert.deepEqual(
        findingsFor(rule, c.yaml, c.options).map(
          (f) => `${f.resource.kind}/${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`,
        ),
        [],
      );
    });
  for (const c of cases.invalid)
    it(`${rule.meta.code} invalid: ${c.name}`, () => {
      const got = findingsFor(rule, c.yaml, c.options).map((f) => ({
        code: f.code,
        resource: `${f.resource.kind}/${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`,
        ...(c.errors.some((e) => e.line !== undefined) ? { line: f.line } : {}),
      }));
      const want = c.errors.map((e) => ({
        code: e.code ?? rule.meta.code,
        resource: e.resource,
        ...(e.line !== undefined ? { line: e.line } : {}),
      }));
      assert.deepEqual(got, want);
    });
}
