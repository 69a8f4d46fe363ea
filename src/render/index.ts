import type { ServerlessMesh } from '../api/types.ts';
import { profileFor } from '../flavors/index.ts';
import type { KubeObject } from '../util/kube.ts';
import { systemAuthorizationPolicies } from './authz-system.ts';
import { tenantAuthorizationPolicies } from './authz-tenant.ts';
import { knativeGateways } from './gateways.ts';
import { kafkaServiceEntry, knativeEventing, knativeKafka, knativeServing } from './knative.ts';
import { namespaces } from './namespaces.ts';
import { networkPathPolicies, networkPaths } from './network-paths.ts';
import { kourierMemberNetworkPolicies, monitoringNetworkPolicy } from './network-policies.ts';
import { tlsSecret, type TlsMaterial } from './tls-secret.ts';

export type { TlsMaterial } from './tls-secret.ts';

export interface RenderInputs {
  /**
   * Certificate and key for the ingress gateway Secret. Required when `spec.tls.generate` is set:
   * generating keys is random and async, so the caller does it (or reuses the live Secret) and
   * render stays a pure function.
   */
  tls?: TlsMaterial;
}

/**
 * spec → every object the documented procedure creates, in the order the procedure applies them:
 * namespaces, TLS secret, control plane, member roll, gateways, mesh-wide policies, Knative CRs,
 * Kafka ServiceEntry, NetworkPolicies, then AuthorizationPolicies (system set, then each tenant).
 * What differs between mesh flavours comes from the flavour's profile. Pure: no I/O.
 */
export function render(mesh: ServerlessMesh, inputs: RenderInputs = {}): KubeObject[] {
  const spec = mesh.spec;
  const profile = profileFor(spec.mesh.flavor);
  if (spec.tls.generate && !inputs.tls) {
    throw new Error('render: spec.tls.generate is set but no TLS material was passed');
  }
  const out: KubeObject[] = [...namespaces(spec, profile)];
  const istio = spec.ingress === 'istio';

  if (istio && inputs.tls) out.push(tlsSecret(spec, profile, inputs.tls));
  if (spec.mesh.manageControlPlane) out.push(...profile.controlPlane(spec));
  out.push(...profile.membership(spec));
  if (istio && spec.serving.enabled) out.push(...knativeGateways(spec, profile));
  if (istio) out.push(...profile.meshPolicies(spec));
  if (spec.serving.enabled) out.push(knativeServing(spec, profile));
  if (spec.eventing.enabled) out.push(knativeEventing(spec, profile));
  const kafka = knativeKafka(spec, profile);
  if (kafka) out.push(kafka);
  const serviceEntry = kafkaServiceEntry(spec, profile);
  if (serviceEntry) out.push(serviceEntry);

  const monitoring = monitoringNetworkPolicy(spec, profile);
  if (monitoring) out.push(monitoring);
  if (!istio) out.push(...kourierMemberNetworkPolicies(spec));
  // OSSM 3 / Istio: none unless asked (seed 000); then exactly the paths of docs/network-paths.md.
  if (istio && profile.networkPolicies.generatedBy === 'render' && spec.networkPolicies === 'generate') {
    out.push(...networkPathPolicies(networkPaths(spec, profile)));
  }

  if (istio && spec.tenants.length > 0) {
    // Without tenants nothing is isolated, and the deny-all system policies would only cut
    // non-tenant members off from the activator.
    out.push(...systemAuthorizationPolicies(spec, profile));
    for (const tenant of spec.tenants) out.push(...tenantAuthorizationPolicies(spec, profile, tenant));
  }
  return out;
}
