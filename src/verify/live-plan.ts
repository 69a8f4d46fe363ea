/**
 * `verify --live`, the pure half: from the model and the simulator's prediction, the probe plan —
 * per source namespace one probe pod (and one without sidecar for the `no-sidecar` path), per target
 * Knative Service and path one curl request — and the shell script each pod runs. The manual
 * procedure it automates is docs §2.4 ("Verifying the configuration": a curl pod per tenant, `curl`
 * to the cluster-local and the external URL, 200 vs `403 RBAC: access denied`).
 */
import { externalHost, type KnativeModel, type Ksvc, type Via } from '../authz/knative.ts';
import { INJECT, svcHost } from '../model/constants.ts';
import type { KubeObject } from '../util/kube.ts';
import { explain } from './matrix.ts';
import type { Expectation } from './expectations.ts';

/** Labels every probe pod carries; the run label lets cleanup delete exactly this run's pods. */
export const PROBE_LABELS = {
  managedBy: ['app.kubernetes.io/managed-by', 'serverless-mesh'],
  component: ['app.kubernetes.io/component', 'verify-live-probe'],
} as const;
export const PROBE_RUN_LABEL = 'serverlessmesh.dev/probe-run';
export const PROBE_CONTAINER = 'probe';
/** Marker before each request's result line in the probe output (live-compare.ts parses it). */
export const PROBE_MARKER = '@@sm-probe';

/**
 * Default probe image: UBI 9 minimal ships curl (curl-minimal: HTTP/HTTPS only, enough here), a shell and
 * coreutils (sleep, head, tr), is pullable without credentials from Red Hat's registry, and passes
 * OpenShift's restricted SCC (any UID). curlimages/curl (the docs' image) lives on Docker Hub (rate limits).
 */
export const DEFAULT_PROBE_IMAGE = 'registry.access.redhat.com/ubi9/ubi-minimal:latest';

/** Where the root CA is written inside the probe pod for the external requests. */
const CA_PATH = '/tmp/serverless-mesh-root-ca.crt';

/** The paths `--live` probes; `activator` cannot be forced from outside (see PROBED_VIAS' note). */
export type LiveVia = Extract<Via, 'direct' | 'local-gateway' | 'external' | 'no-sidecar'>;
/**
 * `activator` is not probed on its own: whether the activator is in the path is Knative's choice per
 * revision (target-burst-capacity, scale), so a client cannot pick it. The `local-gateway` request uses
 * the ksvc Host and is routed by the caller's sidecar like the activator path; its result is compared
 * with both predicted variants (activator in and out of the path).
 */
export const LIVE_VIAS: readonly LiveVia[] = ['direct', 'local-gateway', 'external', 'no-sidecar'];

/** A Knative Service as found on the cluster, with the model's service it is predicted by. */
export interface LiveTarget {
  /** The model's ksvc (for a representative one, every real ksvc of its namespace). */
  model: Ksvc;
  namespace: string;
  name: string;
  /** `status.latestReadyRevisionName`, else the model's guess. */
  revision: string;
  /** `status.url`, else `https://<name>-<namespace>.<domain>`. */
  externalUrl: string;
}

export interface Prediction {
  expectation: Expectation;
  /** Allowed, per variant the path can take (one, or two where the activator may or may not be in the path). */
  variants: Array<{ variant: string; allowed: boolean }>;
  /** The deciding hop and policy of the first variant that refuses, else the last hop of the first. */
  hop: string;
  policy: string | null;
}

export interface ProbeRequest {
  /** Unique within the run (`r1`, `r2`, …): the marker in the output names it. */
  id: string;
  from: string;
  target: { namespace: string; name: string };
  via: LiveVia;
  /** The curl arguments after `curl` (without the output options the script adds). */
  args: string[];
  /** For people: the equivalent command line. */
  command: string;
  prediction: Prediction;
}

export interface ProbePod {
  namespace: string;
  name: string;
  sidecar: boolean;
  manifest: KubeObject;
  requests: ProbeRequest[];
}

export interface LivePlan {
  runId: string;
  pods: ProbePod[];
  /** Paths not probed and why (for the report). */
  notes: string[];
}

export interface LivePlanOptions {
  runId: string;
  image?: string;
  /** PEM of the root CA that signed the external certificate; without it external requests use `--insecure`. */
  caPem?: string;
  /** Per-request curl deadline (seconds). */
  requestTimeoutSeconds?: number;
  /** Only these paths. */
  vias?: readonly LiveVia[];
  /** Source namespaces (default: every model source). */
  sources?: readonly string[];
  /** Pod `runAsUser` (plain Kubernetes with a root image; OpenShift's SCC assigns one and must not be overridden). */
  runAsUser?: number;
  /** Seconds after which a forgotten probe pod stops (activeDeadlineSeconds). */
  lifetimeSeconds?: number;
}

/** A DNS-1123 label: lower case, digits, '-', at most 63 characters. */
export const isRunId = (s: string): boolean => /^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/.test(s);

export const probePodName = (runId: string, sidecar: boolean): string => `sm-probe-${runId}${sidecar ? '' : '-nosidecar'}`;

export const runSelector = (runId: string): string => `${PROBE_RUN_LABEL}=${runId}`;

/** Single-quoted for POSIX sh. */
export const shQuote = (s: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The probe pod: sleeps while requests are exec'd into it. Fit for Kubernetes' restricted Pod Security
 * Standard and OpenShift's restricted-v2 SCC (non-root, no privilege escalation, all capabilities
 * dropped, RuntimeDefault seccomp); service account `default`, the identity the model gives callers
 * (authz/knative.ts callerIn), without an API token (the probe never calls the apiserver).
 */
export function probePodManifest(m: KnativeModel, namespace: string, sidecar: boolean, o: LivePlanOptions): KubeObject {
  const inj = m.profile.injection;
  // Sidecar wanted: the flavour's opt-in (OSSM 2: per pod; OSSM 3 / Istio: the namespace label does it and
  // the opt-in label is harmless — the pod must just not opt out). Maistra 2.x documents the annotation
  // (docs §2.4's curl pod), Istio prefers the label (IST0135): both are set. No sidecar: both say "false"
  // (Istio's injector reads the label first, then the annotation).
  const labels: Record<string, string> = {
    [PROBE_LABELS.managedBy[0]]: PROBE_LABELS.managedBy[1],
    [PROBE_LABELS.component[0]]: PROBE_LABELS.component[1],
    [PROBE_RUN_LABEL]: o.runId,
    ...(sidecar ? inj.optIn.labels : { [INJECT]: 'false' }),
  };
  const annotations: Record<string, string> = sidecar
    ? { ...(inj.optIn.annotations ?? {}), ...(inj.mode === 'pod-opt-in' ? { [INJECT]: 'true' } : {}) }
    : { [INJECT]: 'false' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: probePodName(o.runId, sidecar), namespace, labels, annotations },
    spec: {
      serviceAccountName: 'default',
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      activeDeadlineSeconds: o.lifetimeSeconds ?? 3600,
      terminationGracePeriodSeconds: 2,
      securityContext: {
        runAsNonRoot: true,
        ...(o.runAsUser !== undefined ? { runAsUser: o.runAsUser } : {}),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: PROBE_CONTAINER,
          image: o.image ?? DEFAULT_PROBE_IMAGE,
          command: ['sleep', String(o.lifetimeSeconds ?? 3600)],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true },
        },
      ],
    },
  };
}

function predict(m: KnativeModel, from: string, k: Ksvc, via: Via): Prediction {
  const [p] = explain(m, from, k, [via]);
  const variants = p!.variants.map((v) => ({ variant: v.variant, allowed: v.allowed }));
  const shown = p!.variants.find((v) => !v.allowed) ?? p!.variants[0]!;
  const decisive = shown.allowed ? shown.hops[shown.hops.length - 1] : shown.hops.find((h) => h.decision !== 'ALLOW');
  return { expectation: p!.expectation, variants, hop: decisive?.hop ?? '', policy: decisive?.policy ?? null };
}

/** The curl arguments of one request (output options are added by the script). */
export function requestArgs(m: KnativeModel, t: LiveTarget, via: LiveVia, o: LivePlanOptions): string[] {
  const max = ['--max-time', String(o.requestTimeoutSeconds ?? 10)];
  switch (via) {
    case 'direct':
      // The private revision Service: straight to the revision pods' queue-proxy (80 → 8012), never the activator.
      return [...max, `http://${svcHost(`${t.revision}-private`, t.namespace)}/`];
    case 'local-gateway':
    case 'no-sidecar': {
      // knative-local-gateway with the ksvc's Host: a caller without sidecar reaches the gateway; an injected
      // caller's sidecar routes by Host (the ksvc's mesh VirtualService), as the model says (pathHops).
      const port = m.profile.gateway.localService.ports[0]?.port ?? 80;
      const gw = `${svcHost('knative-local-gateway', m.gateway.namespace)}${port === 80 ? '' : `:${port}`}`;
      return [...max, '-H', `Host: ${svcHost(t.name, t.namespace)}`, `http://${gw}/`];
    }
    case 'external':
      return [...max, ...(o.caPem ? ['--cacert', CA_PATH] : ['--insecure']), t.externalUrl];
  }
}

/** The plan: pods per source namespace, one request per target and path, each with its prediction. */
export function buildLivePlan(m: KnativeModel, targets: readonly LiveTarget[], o: LivePlanOptions): LivePlan {
  if (!isRunId(o.runId)) throw new Error(`run id "${o.runId}" is not a DNS label of at most 16 characters`);
  const vias = o.vias ?? LIVE_VIAS;
  const sources = o.sources ?? m.sources;
  const pods: ProbePod[] = [];
  let n = 0;
  for (const from of sources) {
    for (const sidecar of [true, false]) {
      const pathVias = vias.filter((v) => (v === 'no-sidecar') !== sidecar);
      if (pathVias.length === 0 || targets.length === 0) continue;
      const requests: ProbeRequest[] = [];
      for (const t of targets)
        for (const via of pathVias) {
          const args = requestArgs(m, t, via, o);
          requests.push({
            id: `r${++n}`,
            from,
            target: { namespace: t.namespace, name: t.name },
            via,
            args,
            command: `curl ${args.map(shQuote).join(' ')}`,
            prediction: predict(m, from, t.model, via),
          });
        }
      pods.push({
        namespace: from,
        name: probePodName(o.runId, sidecar),
        sidecar,
        manifest: probePodManifest(m, from, sidecar, o),
        requests,
      });
    }
  }
  const notes = [
    'activator: not probed on its own (Knative decides per revision whether the activator is in the path); the local-gateway request is compared with both variants',
  ];
  if (vias.includes('external') && !o.caPem)
    notes.push('external: no --ca-file given, so curl runs with --insecure (reachability is measured, not the certificate)');
  return { runId: o.runId, pods, notes };
}

/** Default external URL of a ksvc when the cluster does not say (Knative's `{{.Name}}-{{.Namespace}}.{{.Domain}}`). */
export const defaultExternalUrl = (m: KnativeModel, k: Pick<Ksvc, 'name' | 'namespace'>): string => `https://${externalHost(m, k as Ksvc)}`;

/**
 * The script one probe pod runs: every request in turn, one result line each —
 * `@@sm-probe <id> rc=<curl exit> http=<status> err=<stderr> body=<first 200 bytes>` — with control
 * characters flattened so a line stays a line. curl's own exit code decides what a failed request means
 * (live-compare.ts classifyResult).
 */
export function probeScript(pod: ProbePod, caPem?: string): string {
  const lines = [
    'set -u',
    `probe() { id=$1; shift; code=$(curl -sS -o /tmp/sm-body -w '%{http_code}' "$@" 2>/tmp/sm-err); rc=$?; ` +
      `printf '${PROBE_MARKER} %s rc=%s http=%s err=%s body=%s\\n' "$id" "$rc" "\${code:-000}" ` +
      `"$(head -c 200 /tmp/sm-err 2>/dev/null | tr -c '[:print:]' ' ')" "$(head -c 200 /tmp/sm-body 2>/dev/null | tr -c '[:print:]' ' ')"; ` +
      `rm -f /tmp/sm-body /tmp/sm-err; }`,
  ];
  if (caPem && pod.requests.some((r) => r.via === 'external')) lines.push(`printf '%s\\n' ${shQuote(caPem.trim())} > ${CA_PATH}`);
  for (const r of pod.requests) lines.push(`probe ${r.id} ${r.args.map(shQuote).join(' ')}`);
  lines.push(`printf '${PROBE_MARKER}-done\\n'`);
  return `${lines.join('\n')}\n`;
}
