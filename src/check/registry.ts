/** Every rule, in catalogue order; retired codes stay listed so they are never reused. */
import { controlPlaneIncomplete } from './rules/control-plane-incomplete.ts';
import { crossTenantLeak } from './rules/cross-tenant-leak.ts';
import { gatewayConfigMissingService } from './rules/gateway-config-missing-service.ts';
import { gatewayServiceExposed } from './rules/gateway-service-exposed.ts';
import { gatewayWildcard443Conflict } from './rules/gateway-wildcard-443-conflict.ts';
import { hostWithoutPortForm } from './rules/host-without-port-form.ts';
import { customProviderUndefined } from './rules/custom-provider-undefined.ts';
import { httpFieldsOnTcpPort } from './rules/http-fields-on-tcp-port.ts';
import { inboundPortsNotExcluded } from './rules/inbound-ports-not-excluded.ts';
import { injectAnnotationDeprecated } from './rules/inject-annotation-deprecated.ts';
import { kafkaBootstrapWithoutServiceEntry } from './rules/kafka-bootstrap-without-service-entry.ts';
import { knativeServingNotIstio } from './rules/knative-serving-not-istio.ts';
import { networkPolicyCutsRequiredPath } from './rules/network-policy-cuts-required-path.ts';
import { kourierMemberNetworkPolicyMissing } from './rules/kourier-member-network-policy-missing.ts';
import { ksvcNotInjected } from './rules/ksvc-not-injected.ts';
import { ksvcPassthroughMissing } from './rules/ksvc-passthrough-missing.ts';
import { ksvcProbeRewriteMissing } from './rules/ksvc-probe-rewrite-missing.ts';
import { memberRollMissingNamespace } from './rules/member-roll-missing-namespace.ts';
import { meshVersionUnsupported } from './rules/mesh-version-unsupported.ts';
import { metricsNotPrometheus } from './rules/metrics-not-prometheus.ts';
import { namespaceAppLabelOverridden } from './rules/namespace-app-label-overridden.ts';
import { namespaceNotInjected } from './rules/namespace-not-injected.ts';
import { networkPolicyAnnotationMissing } from './rules/network-policy-annotation-missing.ts';
import { proxyDrainTooShort } from './rules/proxy-drain-too-short.ts';
import { requiredEdgeBlocked } from './rules/required-edge-blocked.ts';
import { sameTenantRefused } from './rules/same-tenant-refused.ts';
import { schemaViolation } from './rules/schema-violation.ts';
import { serverlessInSeveralMeshes } from './rules/serverless-in-several-meshes.ts';
import { systemWebhooksInjected } from './rules/system-webhooks-injected.ts';
import { smcpGatewayLabelMissing } from './rules/smcp-gateway-label-missing.ts';
import { smcpMtlsDisabled } from './rules/smcp-mtls-disabled.ts';
import { strictPeerAuthenticationMissing } from './rules/strict-peer-authentication-missing.ts';
import { systemWorkloadsNotInjected } from './rules/system-workloads-not-injected.ts';
import { tenantWithoutAllowPolicy } from './rules/tenant-without-allow-policy.ts';
import { tlsSecretNotLabelled } from './rules/tls-secret-not-labelled.ts';
import { wildcardCertificateDomain } from './rules/wildcard-certificate-domain.ts';
import type { RetiredRule, Rule } from './types.ts';
import { VERIFY_RULES } from '../verify/findings.ts';
import type { RuleDescriptor } from '../report/render.ts';

export const RULES: readonly Rule[] = [
  schemaViolation,
  gatewayWildcard443Conflict,
  gatewayServiceExposed,
  smcpMtlsDisabled,
  proxyDrainTooShort,
  smcpGatewayLabelMissing,
  inboundPortsNotExcluded,
  meshVersionUnsupported,
  networkPolicyAnnotationMissing,
  memberRollMissingNamespace,
  knativeServingNotIstio,
  systemWorkloadsNotInjected,
  gatewayConfigMissingService,
  metricsNotPrometheus,
  kafkaBootstrapWithoutServiceEntry,
  tlsSecretNotLabelled,
  systemWebhooksInjected,
  serverlessInSeveralMeshes,
  kourierMemberNetworkPolicyMissing,
  networkPolicyCutsRequiredPath,
  wildcardCertificateDomain,
  ksvcPassthroughMissing,
  ksvcNotInjected,
  ksvcProbeRewriteMissing,
  injectAnnotationDeprecated,
  namespaceNotInjected,
  controlPlaneIncomplete,
  strictPeerAuthenticationMissing,
  tenantWithoutAllowPolicy,
  customProviderUndefined,
  httpFieldsOnTcpPort,
  hostWithoutPortForm,
  crossTenantLeak,
  sameTenantRefused,
  requiredEdgeBlocked,
  namespaceAppLabelOverridden,
];

/** Codes no longer in use: listed so they are never given to another rule. */
export const RETIRED: readonly RetiredRule[] = [];

/** Codes emitted only by `verify` (SM5002), with the rules' own: the SARIF and docs catalogue. */
export function descriptors(): RuleDescriptor[] {
  const own = RULES.map((r) => ({
    code: r.meta.code,
    name: r.meta.name,
    title: r.meta.title,
    description: r.meta.description,
    severity: r.meta.severity,
    fix: r.meta.fix,
  }));
  const extra = Object.values(VERIFY_RULES).filter((v) => !RULES.some((r) => r.meta.code === v.code));
  return [...own, ...extra].sort((a, b) => a.code.localeCompare(b.code));
}
