/**
 * A mesh flavour as one object: everything render, the Knative data-path model of `verify`, `check`
 * and the apply planner need to know about OSSM 2.x (Maistra), OSSM 3.x (sail-operator) or upstream
 * Istio. Nothing outside `src/flavors/` branches on the flavour's name.
 */
import type { MeshFlavor, ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';

export type ListenerTls = 'ISTIO_MUTUAL' | 'SIMPLE' | 'PLAINTEXT';

export interface GroupKind {
  apiVersion: string;
  kind: string;
}

/** One gateway server as Knative's Gateway objects declare it, and the container port it lands on. */
export interface GatewayListener {
  /** Port number in the Gateway server. */
  port: number;
  /** Port name in the Gateway server. */
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  /** TLS mode of the server; PLAINTEXT means no `tls` block. */
  tls: ListenerTls;
  /** Container port of the gateway pod that serves it (after Istio's gateway port translation). */
  containerPort: number;
}

export interface GatewayProfile {
  /** Namespace of the gateway pods, their Services and the TLS Secret they serve (credentialName is read there), given the mesh namespace. */
  namespace(meshNamespace: string): string;
  /** Gateway pods: Deployment (when render owns it) / the workload the authorization model evaluates. */
  workload: { name: string; serviceAccount: string; labels: Record<string, string> };
  /** Render creates the gateway Deployment, SDS Role and RoleBinding (OSSM 3, Istio); else the control plane does (OSSM 2). */
  managedDeployment: boolean;
  /** Service in front of the external listener, the `gateway.knative-serving.knative-ingress-gateway` target. */
  ingressService:
    | { name: string; selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: number }> }
    | { name: string; external: true };
  /** Service `knative-local-gateway`. */
  localService: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: number }> };
  /** Selector of Gateway `knative-ingress-gateway` / `knative-local-gateway`. */
  ingressSelector: Record<string, string>;
  localSelector: Record<string, string>;
  external: GatewayListener;
  local: GatewayListener;
}

export interface InjectionProfile {
  /** How a sidecar is requested: per-pod opt-in (OSSM 2) or a namespace label (OSSM 3, Istio). */
  mode: 'pod-opt-in' | 'namespace-label';
  /** Labels a mesh namespace (tenant, member, Knative system) gets. */
  namespaceLabels(spec: ServerlessMeshSpec): Record<string, string>;
  /** Knative system namespaces are injection-labelled too (workloads that must stay out opt out). */
  labelSystemNamespaces: boolean;
  /** Workload override requesting a sidecar (KnativeServing/Eventing/Kafka `workloads[]`). */
  optIn: { labels: Record<string, string>; annotations?: Record<string, string> };
  /**
   * KnativeServing field carrying the sidecar opt-ins: `deployments` (OSSM 2 docs) or `workloads` (the
   * tested OSSM 3 setup, research §4.2; `deployments` is the Knative operator's deprecated alias).
   */
  servingOptInField: 'deployments' | 'workloads';
  /** Workload override keeping a workload out of an injection-labelled namespace; undefined when not needed. */
  optOut?: { labels: Record<string, string> };
}

export interface AuthzProfile {
  /** `allow-traffic-to-activator` sources besides knative-serving: where the gateways run. */
  gatewaySourceNamespaces(spec: ServerlessMeshSpec): string[];
  /** Sources of the tenant policy `allow-from-knative-and-istio` besides the tenant's own namespaces (chart §6 / §6.7). */
  tenantSystemSources(spec: ServerlessMeshSpec): string[];
  /** Render `allow-traffic-to-ingress-gateway` (the gateway lives in a namespace the deny-all policies do not cover on OSSM 2). */
  ingressGatewayPolicy: boolean;
  /** Who calls the external gateway: the OpenShift router (no sidecar) or an outside client. */
  externalCaller: { namespace: string; serviceAccount: string; name: string };
}

export interface ApplyProfile {
  /** Kinds applied in the control-plane phase, in order. */
  controlPlaneKinds: GroupKind[];
  /** Kinds applied in the member-roll phase. */
  membershipKinds: GroupKind[];
  /** Kinds whose status carries a Ready condition the operator sets (waited for with --wait). */
  readyKinds: GroupKind[];
  /** Flavour-specific kinds a spec of this flavour can render (listed for prune). */
  pruneKinds: GroupKind[];
  /** CRD (group/plural) that must exist on the cluster for this flavour; the message names the operator. */
  requiredCrd?: { name: string; operator: string };
  /** A Deployment that must exist (upstream Istio: the user's istiod). */
  requiredDeployment?: { namespace(spec: ServerlessMeshSpec): string; name: string; why: string };
}

/** What `spec.networkPolicies` means for the flavour. */
export interface NetworkPolicyProfile {
  /** `spec.networkPolicies` when the spec does not set it. */
  default: 'generate' | 'disabled';
  /**
   * Who writes the NetworkPolicies `generate` asks for. `operator`: the Serverless operator generates its
   * own (OSSM 2.x, where the SMCP isolates member namespaces and the operator opens the webhook and
   * monitoring paths; `disabled` sets its opt-out annotation). `render`: the operator's are always
   * switched off and render emits one NetworkPolicy per communication path of docs/network-paths.md
   * (OSSM 3, Istio: nothing isolates namespaces by default, seed 000).
   */
  generatedBy: 'operator' | 'render';
}

export interface FlavorProfile {
  flavor: MeshFlavor;
  title: string;
  /** `spec.mesh.controlPlane` when the spec names none. */
  defaultControlPlane: string;
  /** Why `spec.mesh.version` is not acceptable for this flavour, or undefined when it is. */
  versionProblem(version: string): string | undefined;
  /** API versions this flavour's Istio serves (OSSM 2.x serves neither networking v1 nor PeerAuthentication v1). */
  api: { networking: string; security: string };
  /** API group whose presence among manifests identifies the flavour (`modelFromObjects` detection). */
  detectGroup?: string;
  /** Namespaces render owns for the control plane (the mesh namespace; OSSM 3 also istio-cni; none for a control plane the user runs). */
  controlPlaneNamespaces(spec: ServerlessMeshSpec): string[];
  /** Control-plane objects render owns (SMCP / Istio + IstioCNI); none for upstream Istio. */
  controlPlane(spec: ServerlessMeshSpec): KubeObject[];
  /** Membership objects (SMMR); none where namespaces join by label. */
  membership(spec: ServerlessMeshSpec): KubeObject[];
  /**
   * Mesh-wide settings that are objects rather than control-plane fields (STRICT PeerAuthentication and
   * its exceptions, the stream idle timeout EnvoyFilter, DestinationRules). Empty on OSSM 2 (the SMCP does it).
   */
  meshPolicies(spec: ServerlessMeshSpec): KubeObject[];
  /** Inbound ports that must bypass the sidecar (kubelet PreStop, kube-rbac-proxy metrics, autoscaler metrics). */
  excludedInboundPorts: number[];
  injection: InjectionProfile;
  gateway: GatewayProfile;
  authz: AuthzProfile;
  apply: ApplyProfile;
  networkPolicies: NetworkPolicyProfile;
  /** `spec.ingress: kourier` is supported. */
  kourier: boolean;
}
