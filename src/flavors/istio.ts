/**
 * Upstream Istio (seed 002): the OSSM 3 data plane without sail-operator CRs. The control plane is the
 * user's (istioctl or Helm; docs/flavours.md lists the values it needs); apply checks that istiod runs.
 */
import {
  injectionByLabel,
  LABEL_INJECTED_EXCLUDED_PORTS,
  labelInjectedAuthz,
  labelInjectedMeshPolicies,
  ownGateway,
} from './label-injected.ts';
import type { FlavorProfile } from './types.ts';

const SECURITY_API = 'security.istio.io/v1';

export const istio: FlavorProfile = {
  flavor: 'istio',
  title: 'upstream Istio',
  defaultControlPlane: 'default',
  versionProblem: () => 'the istio flavour installs no control plane: its version is the one you installed; remove spec.mesh.version',
  api: { networking: 'networking.istio.io/v1', security: SECURITY_API },
  // The control plane's namespace is the user's, like istiod in it: not ours to label, release or delete
  // (apply checks that istiod runs there before writing anything).
  controlPlaneNamespaces: () => [],
  controlPlane: () => [],
  membership: () => [],
  meshPolicies: (spec) => labelInjectedMeshPolicies(spec, SECURITY_API),
  excludedInboundPorts: LABEL_INJECTED_EXCLUDED_PORTS,
  injection: injectionByLabel,
  gateway: ownGateway,
  // Without OpenShift there is no router: the external caller is any client outside the cluster.
  authz: { ...labelInjectedAuthz, externalCaller: { namespace: 'external', serviceAccount: '-', name: 'client' } },
  apply: {
    controlPlaneKinds: [],
    membershipKinds: [],
    readyKinds: [],
    pruneKinds: [],
    requiredDeployment: {
      namespace: (spec) => spec.mesh.namespace,
      name: 'istiod',
      why: 'the istio flavour uses the control plane you installed (istioctl install or the istiod Helm chart)',
    },
  },
  networkPolicies: { default: 'disabled', generatedBy: 'render' },
  kourier: false,
};
