/** The ServerlessMesh spec after defaults are applied (see schema.ts for every default and its reason). */
export type MeshFlavor = 'ossm2' | 'ossm3' | 'istio';

export interface Tenant {
  /** Tenant name: used in the names of its policies in knative-serving / knative-eventing. */
  name: string;
  /** Namespaces the tenant owns; members of the mesh, isolated from other tenants. */
  namespaces: string[];
}

export interface ServerlessMeshSpec {
  mesh: {
    flavor: MeshFlavor;
    /** Namespace of the control plane (and, on OSSM 2.x, of the ingress gateway). */
    namespace: string;
    /** Name of the ServiceMeshControlPlane (ossm2) or Istio CR (ossm3/istio). */
    controlPlane: string;
    /** Control plane version, e.g. `v2.6`; omitted means "the operator's default". */
    version?: string;
    /** Istio revision selected by `istio.io/rev` (ossm3, istio); undefined: derived from the control plane name. */
    revision?: string;
    /** Render and own the control plane CR (SMCP / Istio + IstioCNI); default false with Kourier, true otherwise. */
    manageControlPlane: boolean;
    /** ossm3/istio: render the EnvoyFilter that disables Envoy's stream idle timeout. */
    longRunningRequests: boolean;
  };
  ingress: 'istio' | 'kourier';
  /** Cluster apps domain: the wildcard certificate is issued for `*.<domain>`. */
  domain?: string;
  tls: { secretName: string; generate: boolean };
  serving: { enabled: boolean };
  eventing: { enabled: boolean };
  kafka?: {
    enabled: boolean;
    bootstrapServers: string[];
    numPartitions: number;
    replicationFactor: number;
    /** Kafka listener ports for the ServiceEntry; default: the ports of bootstrapServers. */
    ports: number[];
    channel: boolean;
    source: boolean;
    broker: boolean;
    sink: boolean;
  };
  members: string[];
  tenants: Tenant[];
  metrics: { enabled: boolean; monitoringNamespace: string };
  networkPolicies: 'generate' | 'disabled';
  secretFiltering: boolean;
}

export interface ServerlessMesh {
  apiVersion: 'serverlessmesh.dev/v1alpha1';
  kind: 'ServerlessMesh';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: ServerlessMeshSpec;
}
