/**
 * Request attributes the proxy derives before authorization: the JWT identity from a
 * RequestAuthentication (decoded here, never verified: the simulator has no keys) and the
 * original client IP (`remote.ip`) from X-Forwarded-For.
 */
import { attaches } from './evaluate.ts';
import type { AuthzRequest, JwtRule, MeshOptions, RequestAuthn, SecurityConfig } from './types.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Payload of a compact JWS `header.payload.signature`, or undefined when it is not one. */
export function decodeJwt(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return isObj(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RequestAuthentications applying to a workload: root namespace and the workload's own, attached
 * like AuthorizationPolicies (pilot/pkg/model/authentication.go GetJwtPoliciesForWorkload uses
 * the same policyattachment.go matcher); their jwtRules are merged (integration test
 * jwt_test.go "verify-policies-are-combined").
 */
export function requestAuthnsFor(
  config: SecurityConfig,
  namespace: string,
  labels: Record<string, string>,
  mesh: MeshOptions,
): RequestAuthn[] {
  return (config.requestAuthns ?? []).filter(
    (r) => (r.namespace === mesh.rootNamespace || r.namespace === namespace) && attaches(r, namespace, labels),
  );
}

/**
 * Every token a rule reads: `fromHeaders` / `fromParams`, default `Authorization: Bearer` and
 * `access_token` (Envoy JwtProvider defaults). Envoy verifies all of them: "If a request has
 * multiple tokens, all of them must be valid" (jwt_authn/authenticator.cc doneWithStatus;
 * jwt_test.go headers-params "invalid-token-set").
 */
function tokensFor(req: AuthzRequest, rule: JwtRule): Array<{ token: string; header?: string }> {
  const found: Array<{ token: string; header?: string }> = [];
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (req.jwt !== undefined && !headers.authorization) headers.authorization = `Bearer ${req.jwt}`;
  const locations =
    rule.fromHeaders?.length || rule.fromParams?.length ? (rule.fromHeaders ?? []) : [{ name: 'Authorization', prefix: 'Bearer ' }];
  for (const l of locations) {
    const v = headers[l.name.toLowerCase()];
    if (v === undefined) continue;
    const prefix = l.prefix ?? '';
    if (v.startsWith(prefix)) found.push({ token: v.slice(prefix.length).trim(), header: l.name.toLowerCase() });
  }
  const params = rule.fromHeaders?.length || rule.fromParams?.length ? (rule.fromParams ?? []) : ['access_token'];
  const query = (req.path ?? '').split('?')[1];
  if (query) {
    const q = new URLSearchParams(query);
    for (const p of params) {
      for (const v of q.getAll(p)) if (v) found.push({ token: v });
    }
  }
  return found;
}

/**
 * Envoy normalize_payload_in_metadata: the claims `scope`, `permission` and the rule's
 * spaceDelimitedClaims are split at spaces into lists when they are strings
 * (pilot/pkg/security/authn/policy_applier.go buildSpaceDelimitedClaims).
 */
function normalizeClaims(payload: Record<string, unknown>, rule: JwtRule): Record<string, unknown> {
  const out = { ...payload };
  for (const c of new Set(['scope', 'permission', ...(rule.spaceDelimitedClaims ?? [])])) {
    const v = out[c];
    if (typeof v === 'string') out[c] = v.split(' ').filter((x) => x.length > 0);
  }
  return out;
}

const AUDIENCE_NOT_ALLOWED = 'Audiences in Jwt are not allowed';

/** Why one token fails a rule (Envoy's status text), or its payload. */
function tokenFault(token: string, rule: JwtRule, nowSeconds: number): string | Record<string, unknown> {
  const payload = decodeJwt(token);
  if (!payload) return 'Jwt is not in the form of Header.Payload.Signature';
  if (payload.iss !== rule.issuer) return `Jwt issuer ${JSON.stringify(payload.iss)} is not configured`;
  // Envoy checks exp/nbf before the audiences (jwt_authn/authenticator.cc startVerify); clock_skew_seconds defaults to 60.
  if (typeof payload.exp === 'number' && payload.exp + 60 < nowSeconds) return 'Jwt is expired';
  if (typeof payload.nbf === 'number' && payload.nbf - 60 > nowSeconds) return 'Jwt not yet valid';
  // Only string audiences are compared (RFC 7519 §4.1.3: a string or an array of strings).
  const aud = (Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  if (rule.audiences?.length && !aud.some((a) => rule.audiences!.includes(a))) return AUDIENCE_NOT_ALLOWED;
  return payload;
}

/**
 * What jwt_authn does to the request once a token verified (authenticator.cc handleGoodJwt; istiod
 * maps outputPayloadToHeader → forward_payload_header, outputClaimToHeaders → claim_to_headers,
 * forwardOriginalToken → forward): the payload segment as is, claims as strings (numbers, booleans
 * printed; lists and objects as base64 of their JSON), and the token's header removed unless
 * forwarded (query-parameter tokens stay: "TODO remove JWT from queries").
 */
function rewrite(
  out: Record<string, string | null>,
  rule: JwtRule,
  token: string,
  header: string | undefined,
  payload: Record<string, unknown>,
) {
  if (rule.outputPayloadToHeader) out[rule.outputPayloadToHeader.toLowerCase()] = token.split('.')[1] ?? '';
  for (const { header: h, claim } of rule.outputClaimToHeaders ?? []) {
    let v: unknown = payload;
    for (const k of claim.split('.')) v = isObj(v) ? v[k] : undefined;
    const s =
      typeof v === 'string'
        ? v
        : typeof v === 'number'
          ? Number.isInteger(v)
            ? v.toFixed(0)
            : String(v)
          : typeof v === 'boolean'
            ? String(v)
            : typeof v === 'object' && v !== null
              ? Buffer.from(JSON.stringify(v)).toString('base64')
              : '';
    if (s) out[h.toLowerCase()] = s;
  }
  if (!rule.forwardOriginalToken && header) out[header] = null;
}

function isCorsPreflight(req: AuthzRequest): boolean {
  if (req.method !== 'OPTIONS') return false;
  const h = (name: string) => Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  return !!h('origin') && !!h('access-control-request-method');
}

export type JwtOutcome =
  | { status: 'none' }
  | {
      status: 'ok';
      requestPrincipal: string;
      claims: Record<string, unknown>;
      policy: string;
      upstreamHeaders: Record<string, string | null>;
    }
  | { status: 'rejected'; reason: string };

/**
 * The jwt_authn filter istiod configures (policy_applier.go convertToEnvoyJwtConfig): "reject all
 * requests with invalid token; if no token provided, the request is allowed" — each provider is
 * OR-ed with allow_missing. A token no applicable rule accepts (issuer not configured, audience
 * not allowed, expired, malformed) is answered 401 before authorization runs. The signature is
 * not checked here. Without any RequestAuthentication the token is ignored.
 */
export function authenticateJwt(
  req: AuthzRequest,
  config: SecurityConfig,
  mesh: MeshOptions,
  nowSeconds = Math.floor(Date.now() / 1000),
): JwtOutcome {
  const d = req.destination;
  if (d.protocol !== 'http') return { status: 'none' };
  // No RequestAuthentication at all: nothing below can find a JWT rule.
  if (!config.requestAuthns?.length) return { status: 'none' };
  // Istio sets bypass_cors_preflight (pilot/pkg/security/authn/policy_applier.go); Envoy then
  // passes OPTIONS with non-empty Origin and Access-Control-Request-Method untouched
  // (jwt_authn/filter.cc isCorsPreflightRequest; jwt_test.go "expired-token-cors-preflight-request-allowed").
  if (isCorsPreflight(req)) return { status: 'none' };
  const ras = requestAuthnsFor(config, d.namespace, d.labels, mesh);
  const rules = ras.flatMap((r) => r.jwtRules.map((rule) => ({ ra: r, rule })));
  if (rules.length === 0) return { status: 'none' };
  let sawToken = false;
  let why = '';
  for (const { ra, rule } of rules) {
    const tokens = tokensFor(req, rule);
    if (tokens.length === 0) continue;
    sawToken = true;
    let payload: Record<string, unknown> | undefined;
    let failed = false;
    const upstreamHeaders: Record<string, string | null> = {};
    for (const { token, header } of tokens) {
      const fault = tokenFault(token, rule, nowSeconds);
      if (typeof fault === 'string') {
        // An issuer mismatch only counts when nothing else went wrong (Envoy treats JwtUnknownIssuer like a missing token).
        if (fault.startsWith('Jwt issuer')) why ||= fault;
        else why = fault;
        failed = true;
        break;
      }
      payload ??= fault;
      rewrite(upstreamHeaders, rule, token, header, fault);
    }
    if (failed || !payload) continue;
    return {
      status: 'ok',
      requestPrincipal: `${typeof payload.iss === 'string' ? payload.iss : ''}/${typeof payload.sub === 'string' ? payload.sub : ''}`,
      claims: normalizeClaims(payload, rule),
      policy: `${ra.namespace}/${ra.name}`,
      upstreamHeaders,
    };
  }
  if (!sawToken) return { status: 'none' };
  // Envoy answers JwtAudienceNotAllowed with 403, every other failure with 401 (jwt_authn/filter.cc onComplete; jwt_test.go "invalid-aud").
  const code = why === AUDIENCE_NOT_ALLOWED ? 403 : 401;
  return {
    status: 'rejected',
    reason: `${code} Jwt verification fails: ${why} (RequestAuthentication ${ras.map((r) => `${r.namespace}/${r.name}`).join(', ')})`,
  };
}

/**
 * `remote.ip`: given explicitly, or at a gateway taken from X-Forwarded-For with
 * meshConfig.defaultConfig.gatewayTopology.numTrustedProxies = N > 0: the N-th address from the
 * right (https://istio.io/latest/docs/ops/configuration/traffic-management/network-topologies/,
 * Envoy xff_num_trusted_hops); otherwise the direct peer.
 */
export function remoteIpOf(req: AuthzRequest, mesh: MeshOptions): string | undefined {
  if (req.remoteIp !== undefined) return req.remoteIp;
  const n = mesh.numTrustedProxies ?? 0;
  if (n > 0 && req.destination.gatewayListener) {
    const xff = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-forwarded-for')?.[1];
    const hops = (xff ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (hops.length >= n) return hops[hops.length - n];
  }
  return req.source.ip;
}
