import { meshConfigFromObjects, meshOptionsFromMeshConfig } from '../../authz/parse.ts';
import { AUTHZ_POLICY, ISTIO_CR, SMCP } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { get, str } from '../util.ts';

/**
 * istiod turns a CUSTOM policy whose provider is not in meshConfig.extensionProviders into DENY
 * rules (pilot/pkg/security/authz/builder/builder.go: getExtAuthz fails → "will generate deny
 * configs", getBadCustomDenyRules): every request the policy's rules match is refused, which is
 * how a typo in a provider name becomes `RBAC: access denied` for a whole workload.
 */
export const customProviderUndefined: Rule = {
  meta: {
    code: 'SM4002',
    name: 'custom-provider-undefined',
    severity: 'error',
    title: 'CUSTOM AuthorizationPolicy names an undefined extension provider',
    description:
      'An AuthorizationPolicy with action CUSTOM delegates to `provider.name`, which must be an ext-authz entry (envoyExtAuthzGrpc or envoyExtAuthzHttp) of meshConfig.extensionProviders. When it is not, istiod generates DENY rules in its place, so every request the policy matches is refused. The mesh config is read from the ServiceMeshControlPlane (`spec.meshConfig`, `spec.techPreview.meshConfig`), the sail-operator `Istio` CR (`spec.values.meshConfig`) or the `istio` ConfigMap when it is among the inputs; without any of them the rule cannot decide and reports nothing.',
    source: 'research istio-semantics.md §1 (CUSTOM); Istio pilot/pkg/security/authz/builder/builder.go (getBadCustomDenyRules)',
    fix: 'Define the provider under meshConfig.extensionProviders (an envoyExtAuthzGrpc or envoyExtAuthzHttp entry), or correct `provider.name` in the policy.',
    inputs: [AUTHZ_POLICY],
  },
  check(ctx) {
    const customs = ctx.index.of(AUTHZ_POLICY).filter((p) => str(get(p, 'spec', 'action')) === 'CUSTOM');
    if (!customs.length) return [];
    const found = meshConfigFromObjects(ctx.index.objects);
    // A control plane without any meshConfig defines no provider; with no control plane at all the mesh config is unknown.
    const controlPlanePresent = ctx.index.has(SMCP) || ctx.index.has(ISTIO_CR);
    if (!found && !controlPlanePresent) return [];
    let providers: Record<string, { tcp: boolean }>;
    try {
      providers = meshOptionsFromMeshConfig(found ?? {}).extensionProviders ?? {};
    } catch {
      return []; // an invalid mesh config is the schema rule's finding, not a guess here
    }
    const known = Object.keys(providers).sort();
    const out: Hit[] = [];
    for (const p of customs) {
      const name = str(get(p, 'spec', 'provider', 'name'));
      if (name !== undefined && Object.hasOwn(providers, name)) continue;
      out.push({
        object: p,
        message: `AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name}: CUSTOM provider ${name === undefined ? '(none)' : `"${name}"`} is not an ext-authz provider of meshConfig.extensionProviders (${known.length ? `defined: ${known.join(', ')}` : 'none defined'}); istiod denies what the policy matches`,
        path: name === undefined ? ['spec', 'action'] : ['spec', 'provider', 'name'],
      });
    }
    return out;
  },
};
