import { InputErrors, UserError } from '../util/errors.ts';
import type { KubeObject } from '../util/kube.ts';
import type {
  Action,
  AuthzPolicy,
  AuthzRequest,
  ClientTlsMode,
  DestRule,
  MtlsMode,
  PeerAuthn,
  Rule,
  SecurityConfig,
} from './types.ts';

const SECURITY_VERSIONS = new Set(['security.istio.io/v1', 'security.istio.io/v1beta1']);
const NETWORKING_GROUP = 'networking.istio.io/';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ACTIONS: readonly Action[] = ['ALLOW', 'DENY', 'CUSTOM', 'AUDIT'];
const MODES: readonly MtlsMode[] = ['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'];

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';

function matchLabels(sel: unknown): Record<string, string> | undefined {
  if (!isObj(sel)) return undefined;
  const ml = sel.matchLabels;
  return isObj(ml) ? (ml as Record<string, string>) : {};
}

/** AuthorizationPolicy, PeerAuthentication and DestinationRule objects → simulator config. */
export function securityConfigFrom(objects: readonly KubeObject[]): SecurityConfig {
  const config: SecurityConfig = { policies: [], peerAuthns: [], destRules: [] };
  const errors: string[] = [];
  objects.forEach((o, order) => {
    const spec = isObj(o.spec) ? o.spec : {};
    const where = `${o.kind} ${ns(o)}/${o.metadata.name}`;
    if (o.kind === 'AuthorizationPolicy' && SECURITY_VERSIONS.has(o.apiVersion)) {
      const action = (spec.action ?? 'ALLOW') as Action;
      if (!ACTIONS.includes(action)) {
        errors.push(`${where}: unknown action ${JSON.stringify(spec.action)} (istiod ignores the policy)`);
        return;
      }
      if (spec.rules !== undefined && !Array.isArray(spec.rules)) {
        errors.push(`${where}: spec.rules must be a list`);
        return;
      }
      const provider = isObj(spec.provider) && typeof spec.provider.name === 'string' ? spec.provider.name : undefined;
      config.policies.push({
        namespace: ns(o),
        name: o.metadata.name,
        action,
        selector: matchLabels(spec.selector),
        targetRef: spec.targetRef !== undefined || spec.targetRefs !== undefined,
        rules: spec.rules as Array<Rule | null> | undefined,
        provider,
        dryRun: o.metadata.annotations?.['istio.io/dry-run'] === 'true',
      } satisfies AuthzPolicy);
    } else if (o.kind === 'PeerAuthentication' && SECURITY_VERSIONS.has(o.apiVersion)) {
      const mode = (isObj(spec.mtls) ? (spec.mtls.mode ?? 'UNSET') : 'UNSET') as MtlsMode;
      if (!MODES.includes(mode)) {
        errors.push(`${where}: unknown mtls.mode ${JSON.stringify(mode)}`);
        return;
      }
      const portLevel: Record<string, MtlsMode> = {};
      if (isObj(spec.portLevelMtls))
        for (const [port, v] of Object.entries(spec.portLevelMtls)) portLevel[port] = ((isObj(v) ? v.mode : undefined) ?? 'UNSET') as MtlsMode;
      config.peerAuthns.push({
        namespace: ns(o),
        name: o.metadata.name,
        selector: matchLabels(spec.selector),
        mode,
        portLevel,
        created: typeof o.metadata.creationTimestamp === 'string' ? o.metadata.creationTimestamp : undefined,
        order,
      } satisfies PeerAuthn);
    } else if (o.kind === 'DestinationRule' && o.apiVersion.startsWith(NETWORKING_GROUP)) {
      const tp = isObj(spec.trafficPolicy) ? spec.trafficPolicy : {};
      const portTls: Record<string, ClientTlsMode> = {};
      for (const ps of Array.isArray(tp.portLevelSettings) ? tp.portLevelSettings : []) {
        if (isObj(ps) && isObj(ps.port) && isObj(ps.tls) && typeof ps.tls.mode === 'string')
          portTls[String(ps.port.number)] = ps.tls.mode as ClientTlsMode;
      }
      config.destRules.push({
        namespace: ns(o),
        name: o.metadata.name,
        host: typeof spec.host === 'string' ? spec.host : '',
        exportTo: Array.isArray(spec.exportTo) ? (spec.exportTo as string[]).map((e) => (e === '.' ? ns(o) : e)) : undefined,
        tls: isObj(tp.tls) && typeof tp.tls.mode === 'string' ? (tp.tls.mode as ClientTlsMode) : undefined,
        portTls,
      } satisfies DestRule);
    }
  });
  if (errors.length) throw new InputErrors(errors);
  return config;
}

/** Parses and checks the `--request` JSON of `serverless-mesh authz`. */
export function parseRequest(json: string): AuthzRequest {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new UserError(`--request: invalid JSON: ${(e as Error).message}`, 2);
  }
  const errs: string[] = [];
  if (!isObj(v)) throw new UserError('--request: expected a JSON object', 2);
  const src = isObj(v.source) ? v.source : {};
  const dst = isObj(v.destination) ? v.destination : undefined;
  if (!dst) errs.push('--request: destination is required');
  if (!src.principal && !(src.namespace && src.serviceAccount) && src.sidecar !== false)
    errs.push('--request: source needs "principal" or "namespace" and "serviceAccount" (or "sidecar": false)');
  if (dst) {
    if (typeof dst.namespace !== 'string') errs.push('--request: destination.namespace is required');
    if (!Number.isInteger(dst.port)) errs.push('--request: destination.port must be an integer (the workload port)');
    if (dst.protocol !== undefined && (typeof dst.protocol !== 'string' || !['http', 'http2', 'grpc', 'tcp'].includes(dst.protocol)))
      errs.push('--request: destination.protocol must be http, http2, grpc or tcp');
  }
  if (errs.length) throw new InputErrors(errs);
  const d = dst!;
  return {
    source: {
      namespace: src.namespace as string | undefined,
      serviceAccount: src.serviceAccount as string | undefined,
      principal: src.principal as string | undefined,
      sidecar: src.sidecar !== false,
      ip: src.ip as string | undefined,
    },
    destination: {
      namespace: d.namespace as string,
      labels: (isObj(d.labels) ? d.labels : {}) as Record<string, string>,
      port: d.port as number,
      protocol: d.protocol === 'tcp' ? 'tcp' : 'http',
      sidecar: d.sidecar !== false,
      excludedPorts: Array.isArray(d.excludedPorts) ? (d.excludedPorts as number[]) : undefined,
      ip: d.ip as string | undefined,
      service: d.service as string | undefined,
    },
    method: v.method as string | undefined,
    path: v.path as string | undefined,
    host: v.host as string | undefined,
    headers: (isObj(v.headers) ? v.headers : {}) as Record<string, string>,
    remoteIp: v.remoteIp as string | undefined,
    requestPrincipal: v.requestPrincipal as string | undefined,
    transport: v.transport === 'mtls' || v.transport === 'plaintext' ? v.transport : undefined,
    sni: v.sni as string | undefined,
  };
}
