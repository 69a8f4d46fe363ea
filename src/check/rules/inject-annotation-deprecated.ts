import { INJECT } from '../../model/constants.ts';
import { KSVC } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, rec } from '../util.ts';
import { ref } from './ksvc-mesh.ts';

export const injectAnnotationDeprecated: Rule = {
  meta: {
    code: 'SM3004',
    name: 'inject-annotation-deprecated',
    severity: 'warning',
    title: 'sidecar.istio.io/inject as an annotation',
    description:
      'The injection switch is a pod label; the annotation form is deprecated (istioctl analyze IST0135) and the Serverless operator moved to the label.',
    source:
      'research users-and-anchors.md P20 (serverless-operator#2887); istio-semantics.md §5.1 IST0135; seed 000 "Future things to look at"',
    fix: 'Move sidecar.istio.io/inject from spec.template.metadata.annotations to spec.template.metadata.labels.',
    inputs: [KSVC],
  },
  check: (ctx) =>
    ctx.index
      .of(KSVC)
      .filter((k) => rec(get(k, 'spec', 'template', 'metadata', 'annotations'))[INJECT] !== undefined)
      .map((k) => ({
        object: k,
        message: `Knative Service ${ref(k)} sets ${INJECT} as a template annotation`,
        path: ['spec', 'template', 'metadata', 'annotations', INJECT],
      })),
};
