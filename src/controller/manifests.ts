// `serverless-mesh controller manifests`: the install bundle in apply order. The ClusterRole is
// generated from the kinds the renderers emit (every example spec, every flavour) and the kinds prune
// looks at (plan.ts PRUNABLE_KINDS): exact groups, resources and verbs, never `*`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpec } from '../api/load.ts';
import { splitApiVersion } from '../cluster/discovery.ts';
import { PRUNABLE_KINDS } from '../cluster/plan.ts';
import { render } from '../render/index.ts';
import type { KubeObject } from '../util/kube.ts';
import { CR_GROUP, CR_PLURAL, serverlessMeshCrd } from './crd.ts';

export interface ManifestOptions {
  namespace: string;
  image: string;
  replicas?: number;
}

/** Kind → resource name, as the apiserver names the kinds we emit (checked against discovery in the tests). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  return /[^aeiou]y$/.test(k) ? `${k.slice(0, -1)}ies` : k.endsWith('s') ? `${k}es` : `${k}s`;
}

/** examples/ of the package: found upwards from this module (src/controller/ under tsx, dist/ in the bundle). */
function examplesDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, d = dirname(d)) if (existsSync(join(d, 'examples'))) return join(d, 'examples');
  throw new Error('examples/ not found next to the serverless-mesh package');
}

/** Every (apiVersion, kind) the renderers emit for the examples, plus what prune looks at. */
export function emittedKinds(): { apiVersion: string; kind: string }[] {
  const seen = new Map<string, { apiVersion: string; kind: string }>();
  const add = (o: { apiVersion: string; kind: string }) =>
    seen.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
  const dir = examplesDir();
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.yaml'))
    .sort()) {
    const mesh = parseSpec(f, readFileSync(join(dir, f), 'utf8'));
    for (const variant of [mesh, { ...mesh, spec: { ...mesh.spec, networkPolicies: 'generate' as const } }]) {
      for (const o of render(variant, variant.spec.tls.generate ? { tls: { certPem: 'x', keyPem: 'x' } } : {})) add(o);
    }
  }
  for (const k of PRUNABLE_KINDS) add(k);
  return [...seen.values()];
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Least-privilege rules: owned kinds (namespaces are released, never deleted), the CR, Events. */
export function clusterRules(): Rule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const k of emittedKinds()) {
    const { group } = splitApiVersion(k.apiVersion);
    if (k.kind === 'Namespace' && group === '') continue;
    byGroup.set(group, (byGroup.get(group) ?? new Set()).add(pluralOf(k.kind)));
  }
  const owned = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
  const rules: Rule[] = [...byGroup]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([g, rs]) => ({ apiGroups: [g], resources: [...rs].sort(), verbs: owned }));
  rules.push({ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch'] });
  rules.push({ apiGroups: [CR_GROUP], resources: [CR_PLURAL], verbs: ['get', 'list', 'watch', 'patch', 'update'] });
  rules.push({ apiGroups: [CR_GROUP], resources: [`${CR_PLURAL}/status`], verbs: ['get', 'patch', 'update'] });
  rules.push({ apiGroups: [CR_GROUP], resources: [`${CR_PLURAL}/finalizers`], verbs: ['update'] });
  rules.push({ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] });
  return rules;
}

const NAME = 'serverless-mesh-controller';
const LABELS = { 'app.kubernetes.io/name': 'serverless-mesh', 'app.kubernetes.io/component': 'controller' };

/** The install bundle, in apply order. */
export function controllerManifests(o: ManifestOptions): KubeObject[] {
  const ns = o.namespace;
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: { ...LABELS } });
  const port = 8080;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...LABELS } } },
    serverlessMeshCrd(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(NAME, false), rules: clusterRules() },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(NAME, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: ns }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(`${NAME}-leader-election`),
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(`${NAME}-leader-election`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${NAME}-leader-election` },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(NAME),
      spec: {
        replicas: o.replicas ?? 2,
        selector: { matchLabels: { ...LABELS } },
        template: {
          metadata: { labels: { ...LABELS } },
          spec: {
            serviceAccountName: NAME,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: o.image,
                args: ['controller', 'run', '--listen', `:${port}`],
                env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
                ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
                // bench/controller, 1,000 tenants × 3 namespaces: 170–440 MB steady, 440 MB peak (the first apply and verify).
                resources: { requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '1', memory: '768Mi' } },
                livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, initialDelaySeconds: 10, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, initialDelaySeconds: 5, periodSeconds: 10 },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${NAME}-metrics`),
      spec: { selector: { ...LABELS }, ports: [{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }] },
    },
  ];
}
