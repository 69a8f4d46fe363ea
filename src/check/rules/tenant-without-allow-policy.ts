import { TENANT_LABEL } from '../../model/constants.ts';
import { AUTHZ_POLICY, NAMESPACE } from '../context.ts';
import type { Rule } from '../types.ts';
import { get, labels } from '../util.ts';

export const tenantWithoutAllowPolicy: Rule = {
  meta: {
    code: 'SM4001',
    name: 'tenant-without-allow-policy',
    severity: 'error',
    title: 'Tenant namespace with no ALLOW AuthorizationPolicy',
    description:
      'A workload with no ALLOW policy accepts every caller that no DENY policy refuses, so a tenant namespace without one is reachable from every other tenant on the direct path.',
    source: 'research istio-semantics.md §1.2 (evaluation order); users-and-anchors.md P2',
    fix: "Create an ALLOW policy in the tenant namespace that admits the tenant's namespaces and the Knative system sources (serverless-mesh render does this per tenant).",
    inputs: [NAMESPACE, AUTHZ_POLICY],
  },
  check(ctx) {
    const root = ctx.model().mesh.rootNamespace;
    // An ALLOW policy in the root namespace without selector, or one in the namespace, covers some workload there.
    const allowIn = new Set<string>();
    let rootAllow = false;
    for (const p of ctx.index.of(AUTHZ_POLICY)) {
      const action = get(p, 'spec', 'action') ?? 'ALLOW';
      if (action !== 'ALLOW') continue;
      if (p.metadata.namespace === root) rootAllow ||= get(p, 'spec', 'selector') === undefined;
      else if (p.metadata.namespace) allowIn.add(p.metadata.namespace);
    }
    if (rootAllow) return [];
    return ctx.index
      .of(NAMESPACE)
      .filter((n) => labels(n)[TENANT_LABEL] !== undefined && !allowIn.has(n.metadata.name))
      .map((n) => ({
        object: n,
        message: `tenant namespace ${n.metadata.name} (tenant ${labels(n)[TENANT_LABEL]}) has no ALLOW AuthorizationPolicy: every mesh caller reaches it`,
      }));
  },
};
