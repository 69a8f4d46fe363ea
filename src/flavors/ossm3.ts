/**
 * OpenShift Service Mesh 3.x (sail-operator): `Istio` and `IstioCNI` CRs, namespaces join by label,
 * Knative's own gateway in knative-serving-ingress. Follows the serverless-operator's tested setup
 * (research serverless-operator.md §4) where the product docs differ; docs/flavours.md says where and why.
 */
import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';
import {
  injectionByLabel,
  LABEL_INJECTED_EXCLUDED_PORTS,
  labelInjectedAuthz,
  labelInjectedMeshPolicies,
  ownGateway,
  SAIL,
} from './label-injected.ts';
import type { FlavorProfile } from './types.ts';

/** Istio version of the tested setup (MESH3_ISTIO_VERSION); the docs' v1.26-latest also works. */
export const OSSM3_DEFAULT_VERSION = 'v1.27-latest';
export const ISTIO_CNI_NS = 'istio-cni';

const SECURITY_API = 'security.istio.io/v1';

/**
 * The control plane: drain longer than Knative's 30 s termination (queue-proxy PreStop), inbound
 * ports non-mesh callers use excluded from capture, in-place upgrades (the revision keeps the CR's
 * name, so `istio-injection: enabled` keeps working).
 */
export function istio(spec: ServerlessMeshSpec): KubeObject {
  return {
    apiVersion: 'sailoperator.io/v1',
    kind: 'Istio',
    metadata: { name: spec.mesh.controlPlane },
    spec: {
      namespace: spec.mesh.namespace,
      version: spec.mesh.version ?? OSSM3_DEFAULT_VERSION,
      updateStrategy: { type: 'InPlace', inactiveRevisionDeletionGracePeriodSeconds: 30 },
      values: {
        global: { proxy: { excludeInboundPorts: LABEL_INJECTED_EXCLUDED_PORTS.join(',') } },
        meshConfig: { defaultConfig: { terminationDrainDuration: '35s' } },
      },
    },
  };
}

/** Without the CNI plugin OSSM 3 pods cannot start (seed 000). */
export function istioCni(spec: ServerlessMeshSpec): KubeObject {
  return {
    apiVersion: 'sailoperator.io/v1',
    kind: 'IstioCNI',
    metadata: { name: 'default' },
    spec: { namespace: ISTIO_CNI_NS, version: spec.mesh.version ?? OSSM3_DEFAULT_VERSION },
  };
}

export const ossm3: FlavorProfile = {
  flavor: 'ossm3',
  title: 'OpenShift Service Mesh 3.x (sail-operator)',
  defaultControlPlane: 'default',
  // The Istio CR takes an Istio version (v1.27-latest, v1.27.3), not the OSSM product version.
  versionProblem: (v) =>
    /^v1\.\d+(\.\d+|-latest)?$/.test(v)
      ? undefined
      : `invalid version "${v}" for ossm3: expected an Istio version such as v1.27-latest or v1.27.3`,
  api: { networking: 'networking.istio.io/v1', security: SECURITY_API },
  detectGroup: 'sailoperator.io',
  controlPlaneNamespaces: (spec) => [spec.mesh.namespace, ISTIO_CNI_NS],
  controlPlane: (spec) => [istio(spec), istioCni(spec)],
  membership: () => [],
  meshPolicies: (spec) => labelInjectedMeshPolicies(spec, SECURITY_API),
  excludedInboundPorts: LABEL_INJECTED_EXCLUDED_PORTS,
  injection: injectionByLabel,
  gateway: ownGateway,
  authz: { ...labelInjectedAuthz, externalCaller: { namespace: 'openshift-ingress', serviceAccount: 'router', name: 'router' } },
  apply: {
    controlPlaneKinds: [SAIL('Istio'), SAIL('IstioCNI')],
    membershipKinds: [],
    readyKinds: [SAIL('Istio'), SAIL('IstioCNI')],
    pruneKinds: [SAIL('Istio'), SAIL('IstioCNI')],
    requiredCrd: { name: 'istios.sailoperator.io', operator: 'OpenShift Service Mesh 3.x operator (servicemeshoperator3)' },
  },
  networkPolicies: { default: 'disabled', generatedBy: 'render' },
  kourier: false,
};
