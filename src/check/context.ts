/** The rule context: indexed objects, the mesh flavour the control-plane objects describe, mesh membership. */
import { modelFromObjects, type KnativeModel, type ModelOptions } from '../authz/knative.ts';
import { detectFlavor, profileFor, type FlavorProfile } from '../flavors/index.ts';
import type { MeshFlavor } from '../api/types.ts';
import { verifyModel, type VerifyReport } from '../verify/matrix.ts';
import { ISTIO_INJECTION, ISTIO_REV } from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';
import { ResourceIndex } from './resource-index.ts';
import type { CheckContext } from './types.ts';
import { get, str, strs } from './util.ts';

export const SMCP = 'ServiceMeshControlPlane.maistra.io';
export const SMMR = 'ServiceMeshMemberRoll.maistra.io';
export const SMM = 'ServiceMeshMember.maistra.io';
export const ISTIO_CR = 'Istio.sailoperator.io';
export const ISTIO_CNI = 'IstioCNI.sailoperator.io';
export const KSERVING = 'KnativeServing.operator.knative.dev';
export const KEVENTING = 'KnativeEventing.operator.knative.dev';
export const KKAFKA = 'KnativeKafka.operator.serverless.openshift.io';
export const KSVC = 'Service.serving.knative.dev';
export const DOMAIN_MAPPING = 'DomainMapping.serving.knative.dev';
export const GATEWAY = 'Gateway.networking.istio.io';
export const SERVICE_ENTRY = 'ServiceEntry.networking.istio.io';
export const PEER_AUTHN = 'PeerAuthentication.security.istio.io';
export const AUTHZ_POLICY = 'AuthorizationPolicy.security.istio.io';
export const NAMESPACE = 'Namespace';
export const SERVICE = 'Service';
export const SECRET = 'Secret';
export const NETWORK_POLICY = 'NetworkPolicy.networking.k8s.io';

const MESH_GROUPS = ['maistra.io', 'sailoperator.io', 'networking.istio.io', 'security.istio.io'];

export interface ContextOptions {
  /** Force a flavour (else read from the objects). */
  flavor?: MeshFlavor;
  validate?: CheckContext['validate'];
  /** What a spec adds to its render (`specModelOptions`): the model `verify -f` builds. */
  model?: ModelOptions;
}

export function buildContext(objects: readonly KubeObject[], opts: ContextOptions = {}): CheckContext {
  const index = new ResourceIndex(objects);
  const groups = new Set(objects.map((o) => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '')));
  const meshPresent = MESH_GROUPS.some((g) => groups.has(g));
  const profile: FlavorProfile | undefined = opts.flavor ? profileFor(opts.flavor) : meshPresent ? detectFlavor(groups) : undefined;
  const smcp = index.of(SMCP)[0];
  const istio = index.of(ISTIO_CR)[0];
  const meshNamespace = smcp?.metadata.namespace ?? str(get(istio, 'spec', 'namespace')) ?? 'istio-system';
  const meshNamespaces = new Set<string>();
  if (profile?.injection.mode === 'pod-opt-in') {
    meshNamespaces.add(meshNamespace);
    for (const r of index.of(SMMR)) for (const m of strs(get(r, 'spec', 'members'))) meshNamespaces.add(m);
    for (const m of index.of(SMM)) if (m.metadata.namespace) meshNamespaces.add(m.metadata.namespace);
  } else if (profile) {
    for (const n of index.of(NAMESPACE)) {
      const l = n.metadata.labels ?? {};
      if (l[ISTIO_INJECTION] === 'enabled' || l[ISTIO_REV]) meshNamespaces.add(n.metadata.name);
    }
  }
  let model: KnativeModel | undefined;
  let verification: VerifyReport | undefined;
  const getModel = () => (model ??= modelFromObjects(objects, { ...(profile ? { flavor: profile.flavor } : {}), ...opts.model }));
  return {
    index,
    profile,
    meshNamespace,
    meshNamespaces,
    model: getModel,
    verification: () => (verification ??= verifyModel(getModel(), { expandRows: false })),
    validate: opts.validate,
  };
}
