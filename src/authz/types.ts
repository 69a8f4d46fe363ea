/** Istio security objects reduced to what the simulator evaluates (security.istio.io v1 / v1beta1). */

export type Action = 'ALLOW' | 'DENY' | 'CUSTOM' | 'AUDIT';
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'UNSET';

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: Array<{ source?: Source }>;
  to?: Array<{ operation?: Operation }>;
  when?: Condition[];
}

export interface AuthzPolicy {
  namespace: string;
  name: string;
  action: Action;
  /** undefined = no selector (all workloads in scope); {} behaves the same. */
  selector?: Record<string, string>;
  /** targetRef/targetRefs: such a policy never applies to a sidecar or classic gateway. */
  targetRef: boolean;
  /** The targetRef/targetRefs entries (kind, name, namespace defaulting to the policy's). */
  targetRefs?: PolicyTargetRef[];
  /** undefined = no `rules` field. A null entry is a skipped rule. */
  rules?: Array<Rule | null>;
  provider?: string;
  dryRun: boolean;
}

/** `targetRef` / `targetRefs` entry (istio/api type/v1beta1/selector.proto PolicyTargetReference). */
export interface PolicyTargetRef {
  group: string;
  kind: string;
  name: string;
  namespace: string;
}

/** One `jwtRules` entry of a RequestAuthentication (security/v1beta1/request_authentication.proto). */
export interface JwtRule {
  issuer: string;
  audiences?: string[];
  /** Claims Envoy splits at spaces besides `scope` and `permission` (JWTRule.space_delimited_claims). */
  spaceDelimitedClaims?: string[];
  /** Header names the token is read from; default `Authorization: Bearer`. */
  fromHeaders?: Array<{ name: string; prefix?: string }>;
  fromParams?: string[];
  /** What jwt_authn does to an accepted request (Envoy JwtProvider forward_payload_header, claim_to_headers, forward). */
  outputPayloadToHeader?: string;
  outputClaimToHeaders?: Array<{ header: string; claim: string }>;
  forwardOriginalToken?: boolean;
}

export interface RequestAuthn {
  namespace: string;
  name: string;
  selector?: Record<string, string>;
  targetRef: boolean;
  targetRefs?: PolicyTargetRef[];
  jwtRules: JwtRule[];
}

export interface PeerAuthn {
  namespace: string;
  name: string;
  selector?: Record<string, string>;
  mode: MtlsMode;
  portLevel: Record<string, MtlsMode>;
  /** creationTimestamp when known; ties and unknowns fall back to input order. */
  created?: string;
  order: number;
}

export type ClientTlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

export interface DestRule {
  namespace: string;
  name: string;
  host: string;
  /** undefined = exported everywhere. */
  exportTo?: string[];
  tls?: ClientTlsMode;
  portTls: Record<string, ClientTlsMode>;
}

/** Everything the simulator reads from manifests. */
export interface SecurityConfig {
  policies: AuthzPolicy[];
  peerAuthns: PeerAuthn[];
  destRules: DestRule[];
  /** RequestAuthentication objects (absent in older callers = none). */
  requestAuthns?: RequestAuthn[];
}

export interface MeshOptions {
  rootNamespace: string;
  trustDomain: string;
  /** meshConfig.enableAutoMtls (default true). */
  autoMtls: boolean;
  pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  /** meshConfig.trustDomainAliases (pilot/pkg/security/trustdomain/bundle.go NewBundle). */
  trustDomainAliases?: string[];
  /**
   * meshConfig.extensionProviders that CUSTOM policies may name: name → whether it can authorize
   * TCP (envoyExtAuthzGrpc) or only HTTP (envoyExtAuthzHttp). undefined = the mesh config is not
   * known, so any provider name is assumed to exist.
   */
  extensionProviders?: Record<string, { tcp: boolean }>;
  /** meshConfig.defaultConfig.gatewayTopology.numTrustedProxies (gateways only; default 0). */
  numTrustedProxies?: number;
}

export const DEFAULT_MESH: MeshOptions = {
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  autoMtls: true,
  pathNormalization: 'BASE',
};

export type Protocol = 'http' | 'tcp';

/** One request at one destination workload (the `authz --request` JSON, normalised). */
export interface AuthzRequest {
  source: {
    namespace?: string;
    serviceAccount?: string;
    /** `<td>/ns/<ns>/sa/<sa>`; derived from namespace/serviceAccount when absent. */
    principal?: string;
    sidecar: boolean;
    /** Direct peer IP (`source.ip`). */
    ip?: string;
  };
  destination: {
    namespace: string;
    labels: Record<string, string>;
    /** Workload (container/target) port: what `ports` and portLevelMtls match. */
    port: number;
    protocol: Protocol;
    sidecar: boolean;
    /** Inbound ports that bypass the sidecar (excludeInboundPorts). */
    excludedPorts?: number[];
    /** Pod labelled `security.istio.io/tlsMode: istio`; defaults to `sidecar`. */
    tlsModeLabel?: boolean;
    /** A gateway listener: TLS is set by the Gateway server, not by PeerAuthentication. */
    gatewayListener?: 'ISTIO_MUTUAL' | 'SIMPLE' | 'PLAINTEXT';
    ip?: string;
    /** Service FQDN used for the DestinationRule lookup; defaults to `host` without port. */
    service?: string;
    /** Namespace of that Service (auto mTLS reads its PeerAuthentications); defaults to `namespace`. */
    serviceNamespace?: string;
    /**
     * Service port the client called: the default SNI (`outbound_.<port>_._.<host>`) and a
     * DestinationRule's portLevelSettings are keyed by it. Defaults to `port`.
     */
    servicePort?: number;
  };
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  /** Original client IP (`remote.ip`, from XFF); defaults to source.ip. */
  remoteIp?: string;
  /** JWT identity `iss/sub` when a RequestAuthentication validated one. */
  requestPrincipal?: string;
  jwtClaims?: Record<string, unknown>;
  /**
   * A raw JWT (compact form) the request carries (as `Authorization: Bearer`). Decoded, never
   * verified: with RequestAuthentications it sets requestPrincipal / jwtClaims, or yields 401.
   */
  jwt?: string;
  /** Force the transport instead of deriving it from DestinationRule / auto mTLS. */
  transport?: 'mtls' | 'plaintext';
  sni?: string;
}

/** BLOCKED = refused before authorization (TLS, or 401 from a RequestAuthentication). */
export type Decision = 'ALLOW' | 'DENY' | 'BLOCKED';

export interface AuthzResult {
  decision: Decision;
  /** `ns/name` of the deciding policy; null when no policy decided (implicit allow/deny, transport). */
  policy: string | null;
  /** Index into the deciding policy's `rules`. */
  rule: number | null;
  reason: string;
  /** Set when the verdict also needs this ext-authz provider's answer (a CUSTOM policy matched). */
  dependsOn?: string;
  /** Headers jwt_authn set (value) or removed (null) on an accepted token's request, lower-case names; absent without one. */
  upstreamHeaders?: Record<string, string | null>;
  /** Verdicts of the dry-run (istio.io/dry-run) ALLOW / DENY policies, as Envoy's shadow RBAC reports them; absent when none applies. */
  shadow?: ShadowVerdict[];
}

export interface ShadowVerdict {
  action: 'ALLOW' | 'DENY';
  result: 'allowed' | 'denied';
  /** The matching dry-run policy and rule (Envoy's shadow_effective_policy_id), null when none matched. */
  policy: string | null;
  rule: number | null;
}
