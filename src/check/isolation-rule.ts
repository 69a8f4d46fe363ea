/**
 * The rules that report verify's isolation findings (SM5001 leak, SM5002 same-tenant refused): the
 * same simulator run as `verify`, its findings anchored on the Knative Service (or its namespace).
 */
import type { RuleDescriptor } from '../report/render.ts';
import { AUTHZ_POLICY, KSVC, NAMESPACE } from './context.ts';
import type { Hit, Rule } from './types.ts';

export function isolationRule(meta: RuleDescriptor, extra: { description: string; source: string }): Rule {
  return {
    meta: {
      code: meta.code,
      name: meta.name,
      severity: meta.severity,
      title: meta.title,
      description: `${meta.description} ${extra.description}`,
      source: extra.source,
      fix: meta.fix,
      inputs: [
        AUTHZ_POLICY,
        NAMESPACE,
        KSVC,
        'PeerAuthentication.security.istio.io',
        'ServiceMeshControlPlane.maistra.io',
        'ServiceMeshMemberRoll.maistra.io',
        'Istio.sailoperator.io',
      ],
    },
    check(ctx) {
      if (ctx.model().tenantOf.size === 0) return [];
      const out: Hit[] = [];
      for (const f of ctx.verification().findings) {
        if (f.code !== meta.code) continue;
        const ns = f.resource.namespace!;
        const object = ctx.index.get(KSVC, ns, f.resource.name) ?? ctx.index.get(NAMESPACE, undefined, ns);
        if (object) out.push({ object, message: f.message });
      }
      return out;
    },
  };
}
