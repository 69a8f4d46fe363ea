/**
 * bench/check (file mode): a 50,000-object manifest stream — the render of 500 tenants × 2
 * namespaces plus one Knative Service, Deployment, Service and ConfigMaps per namespace up to the
 * total — read from multi-document YAML and checked with every rule on one core (the authorization
 * rules run the reachability simulator). Target ≥ 10,000 objects/s. With CRDS=1 the schema rule
 * (Ajv + CEL against ../shared/crds, OSSM 2 set) runs too.
 * Wall time and process CPU time are both reported (CPU time is the figure that survives a loaded machine).
 * Run: node --import tsx bench/check.ts [objects]
 */
import { join } from 'node:path';
import { buildContext } from '../src/check/context.ts';
import { runRules } from '../src/check/engine.ts';
import { RULES } from '../src/check/registry.ts';
import { ManifestSet } from '../src/check/source.ts';
import { CrdSchemas } from '../src/crd/schema-validation.ts';
import { render } from '../src/render/index.ts';
import { toYaml } from '../src/render/serialize.ts';
import type { KubeObject } from '../src/util/kube.ts';
import { tenantSpec } from './tenant-spec.ts';

const TOTAL = Number(process.argv[2] ?? 50_000);
const TENANTS = 500;
const mesh = tenantSpec(TENANTS, 2);
const objects: KubeObject[] = render(mesh);
const namespaces = mesh.spec.tenants.flatMap((t) => t.namespaces);
let i = 0;
for (const ns of namespaces) {
  objects.push(
    {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'app', namespace: ns, annotations: { 'serving.knative.openshift.io/enablePassthrough': 'true' } },
      spec: {
        template: {
          metadata: { labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/rewriteAppHTTPProbers': 'true' } },
          spec: { containers: [{ image: 'example.com/app' }] },
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'worker', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'worker' } },
        template: { metadata: { labels: { app: 'worker' } }, spec: { containers: [{ name: 'w', image: 'example.com/w' }] } },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'worker', namespace: ns },
      spec: { selector: { app: 'worker' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  );
}
while (objects.length < TOTAL) {
  const ns = namespaces[i++ % namespaces.length]!;
  objects.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: ns, labels: { app: 'worker' } },
    data: { key: `value-${i}`, other: 'x' },
  });
}
const text = toYaml(objects);
const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);

const validate = process.env.CRDS === '1' ? schemaValidator() : undefined;
const runs: Array<{ read: number; check: number; cpu: number; findings: number }> = [];
for (let r = 0; r < 3; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const set = new ManifestSet();
  set.add('stream.yaml', text);
  const t1 = performance.now();
  const findings = runRules(RULES, buildContext(set.objects, { validate }), { locate: set.locate });
  const t2 = performance.now();
  if (set.objects.length !== objects.length) throw new Error(`read ${set.objects.length} of ${objects.length}`);
  const c = process.cpuUsage(c0);
  runs.push({ read: t1 - t0, check: t2 - t1, cpu: (c.user + c.system) / 1000, findings: findings.length });
}
console.log(
  `${objects.length} objects (${mb} MB YAML; ${objects.filter((o) => o.kind === 'AuthorizationPolicy').length} AuthorizationPolicies, ${namespaces.length} ksvcs), ${RULES.length} rules${validate ? ' incl. schema+CEL' : ''}`,
);
runs.forEach((r, n) => {
  const total = r.read + r.check;
  console.log(
    `run ${n + 1}${n === 0 ? ' (cold)' : ''}: read ${r.read.toFixed(0)} ms, check ${r.check.toFixed(0)} ms, wall ${total.toFixed(0)} ms → ${Math.round(objects.length / (total / 1000))} objects/s; CPU ${r.cpu.toFixed(0)} ms → ${Math.round(objects.length / (r.cpu / 1000))} objects/s per core; findings ${r.findings}`,
  );
});
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

function schemaValidator() {
  const crds = join(import.meta.dirname, '..', '..', 'shared', 'crds');
  const s = CrdSchemas.fromDirs([
    join(crds, 'maistra.io'),
    join(crds, 'networking.istio.io', 'maistra-2.5'),
    join(crds, 'security.istio.io', 'maistra-2.5'),
    join(crds, 'operator.knative.dev', 'openshift-serverless-1.37'),
    join(crds, 'operator.serverless.openshift.io'),
    join(crds, 'serving.knative.dev'),
  ]);
  return (o: KubeObject) => s.validate(o);
}
