import type { V1Deployment, V1Role, V1RoleBinding, V1Service } from '@kubernetes/client-node';
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { FlavorProfile, GatewayListener } from '../flavors/index.ts';
import { revisionOf } from '../flavors/label-injected.ts';
import { DISABLE_PORT_TRANSLATION, INJECT, INJECT_TEMPLATES, ISTIO_REV, SERVING_NS } from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';

type ServicePorts = Array<{ name: string; port: number; targetPort: number }>;

function server(l: GatewayListener, credentialName: string | undefined): Record<string, unknown> {
  const tls = l.tls === 'PLAINTEXT' ? undefined : l.tls === 'SIMPLE' ? { mode: 'SIMPLE', credentialName } : { mode: l.tls };
  return { port: { number: l.port, name: l.name, protocol: l.protocol }, hosts: ['*'], ...(tls ? { tls } : {}) };
}

function service(
  name: string,
  namespace: string,
  selector: Record<string, string>,
  ports: ServicePorts,
  labels?: Record<string, string>,
): KubeObject {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: labels ? { name, namespace, labels } : { name, namespace },
    // protocol spelled out: it is a key of the ports list map, and server-side apply before
    // Kubernetes 1.21 rejects an entry without it.
    spec: { type: 'ClusterIP', selector, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) },
  } satisfies V1Service;
  return svc;
}

/**
 * The two Knative gateways (docs §1.4.2 step 4) and the Services in front of them. The local gateway
 * Service keeps the Gateway's port number (port translation disabled): Service port 80 maps to the
 * listener's container port. Where the flavour has no control-plane gateway (OSSM 3, Istio), the
 * gateway Deployment itself, injected with Istio's `gateway` template, and the Role that lets it
 * read its TLS Secret through SDS (research serverless-operator.md §4.1).
 */
export function knativeGateways(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject[] {
  const g = profile.gateway;
  const ns = g.namespace(spec.mesh.namespace);
  const gateway = (name: string, selector: Record<string, string>, l: GatewayListener): KubeObject => ({
    apiVersion: profile.api.networking,
    kind: 'Gateway',
    metadata: { name, namespace: SERVING_NS },
    spec: { selector, servers: [server(l, spec.tls.secretName)] },
  });
  const out: KubeObject[] = [];
  if (g.managedDeployment) out.push(...gatewayDeployment(spec, profile));
  if (!('external' in g.ingressService)) {
    out.push(service(g.ingressService.name, ns, g.ingressService.selector, g.ingressService.ports));
  }
  out.push(
    gateway('knative-ingress-gateway', g.ingressSelector, g.external),
    gateway('knative-local-gateway', g.localSelector, g.local),
    service('knative-local-gateway', ns, g.localService.selector, g.localService.ports, { [DISABLE_PORT_TRANSLATION]: 'true' }),
  );
  return out;
}

function gatewayDeployment(spec: ServerlessMeshSpec, profile: FlavorProfile): KubeObject[] {
  const g = profile.gateway;
  const ns = g.namespace(spec.mesh.namespace);
  const rev = revisionOf(spec);
  // A pod label picks the injector: the default revision answers `sidecar.istio.io/inject`, another one `istio.io/rev`.
  const injectLabel: Record<string, string> = rev ? { [ISTIO_REV]: rev } : { [INJECT]: 'true' };
  const selectorKey = Object.keys(g.localService.selector)[0] as string;
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: g.workload.name, namespace: ns },
    spec: {
      selector: { matchLabels: { [selectorKey]: g.workload.labels[selectorKey] as string } },
      template: {
        metadata: { annotations: { [INJECT_TEMPLATES]: 'gateway' }, labels: { ...g.workload.labels, ...injectLabel } },
        // `image: auto` is replaced by the injector with the proxy image of the revision.
        spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] },
      },
    },
  } satisfies V1Deployment;
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'istio-ingressgateway-sds', namespace: ns },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
  } satisfies V1Role;
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'istio-ingressgateway-sds', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'istio-ingressgateway-sds' },
    subjects: [{ kind: 'ServiceAccount', name: g.workload.serviceAccount, namespace: ns }],
  } satisfies V1RoleBinding;
  return [deployment, role, binding];
}
