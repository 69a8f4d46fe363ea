import { pointerToPath } from '../../util/yaml-source.ts';
import type { Hit, Rule } from '../types.ts';

export const schemaViolation: Rule = {
  meta: {
    code: 'SM0001',
    name: 'schema-violation',
    severity: 'error',
    title: 'Custom resource does not match its CRD schema',
    description:
      'Every custom resource is validated against the CRDs of ../shared/crds: the openAPIV3Schema (unknown fields rejected, as fieldValidation=Strict) and the x-kubernetes-validations CEL rules, evaluated offline with @bufbuild/cel.',
    source: 'issue 10 §2 "Schema"; research users-and-anchors.md §2.3',
    fix: 'Correct the field the message names; `kubectl explain KIND.FIELD` shows the schema.',
    inputs: ['*'],
  },
  check(ctx) {
    if (!ctx.validate) return [];
    const out: Hit[] = [];
    for (const o of ctx.index.objects) {
      const vs = ctx.validate(o);
      if (!vs) continue;
      for (const v of vs)
        out.push({
          object: o,
          message: `${v.pointer === '/' ? '' : `${v.pointer}: `}${v.message}`,
          path: pointerToPath(v.pointer === '/' ? '' : v.pointer, o),
        });
    }
    return out;
  },
};
