import { SMCP, SMMR } from '../context.ts';
import type { Rule } from '../types.ts';
import { get } from '../util.ts';

export const smcpMtlsDisabled: Rule = {
  meta: {
    code: 'SM1003',
    name: 'smcp-mtls-disabled',
    severity: 'error',
    title: 'ServiceMeshControlPlane without strict mTLS',
    description:
      'The integration assumes strict mTLS in the whole mesh: spec.security.dataPlane.mtls must be true. (The Kourier variant keeps it off; it has no knative-serving member.)',
    source: 'seed 001 §1.4.2 step 1 (callout 1) and "assumptions and limitations"',
    fix: 'Set spec.security.dataPlane.mtls: true on the ServiceMeshControlPlane.',
    inputs: [SMCP, 'ServiceMeshMemberRoll.maistra.io', 'KnativeServing.operator.knative.dev'],
  },
  check(ctx) {
    // Kourier kept (seed §1.6): the Knative system namespaces stay out of the mesh and mTLS stays off.
    if (ctx.index.has(SMMR) && !ctx.meshNamespaces.has('knative-serving')) return [];
    return ctx.index
      .of(SMCP)
      .filter((s) => get(s, 'spec', 'security', 'dataPlane', 'mtls') !== true)
      .map((s) => ({
        object: s,
        message: `ServiceMeshControlPlane ${s.metadata.namespace}/${s.metadata.name} does not enforce mTLS (spec.security.dataPlane.mtls is not true)`,
        path: ['spec', 'security', 'dataPlane', 'mtls'],
      }));
  },
};
