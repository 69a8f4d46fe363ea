// verify at scale on the policies render() produces, across the five paths (and the eventing paths).
// Configurations (each: target < 2 s, < 500 MB):
//   default        1,000 tenants × 2 namespaces, one representative ksvc per namespace
//   openshift-max  5,000 tenants × 2 namespaces = 10,000 namespaces (OpenShift's tested maximum) with
//                  3,000 ksvc manifests (Serverless' stated maximum), one in each of the first 3,000 namespaces
//   ns-max         10,000 namespaces, one representative ksvc each (the "today" figure)
// Usage: bench/verify.ts [TENANTS] | bench/verify.ts openshift-max | bench/verify.ts ns-max
import { modelFromObjects } from '../src/authz/knative.ts';
import { verifyModel } from '../src/authz/verify.ts';
import { meshReadyKsvc } from '../src/render/ksvc.ts';
import { render } from '../src/render/index.ts';
import { tenantSpec } from './tenant-spec.ts';

const arg = process.argv[2];
const config = arg === 'openshift-max' || arg === 'ns-max' ? arg : 'default';
const TENANTS = config === 'default' ? Number(arg ?? 1000) : 5000;
const KSVCS = config === 'openshift-max' ? 3000 : 0;
// Two namespaces per tenant, as the benchmark asks.
const mesh = tenantSpec(TENANTS, 2);
const objects = render(mesh);
for (let i = 0; i < KSVCS; i++) {
  const t = Math.floor(i / 2);
  objects.push(meshReadyKsvc({ name: `app-${i}`, namespace: `tenant-${t}-ns-${i % 2}`, image: 'quay.io/example/app:1' }));
}

const t0 = performance.now();
const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
const t1 = performance.now();
const rep = verifyModel(model, { expandRows: false });
const t2 = performance.now();

let pairs = 0;
let allowed = 0;
const perTarget = new Map<string, number>();
for (const tp of rep.byTarget) {
  const key = `${tp.target.namespace}/${tp.target.name}|${tp.via}`;
  perTarget.set(key, tp.classes.length);
  for (const c of tp.classes) {
    pairs += c.size;
    if (c.outcomes.some((o) => o.allowed)) allowed += c.size;
  }
}
const classCounts = [...perTarget.values()];
const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
console.log(
  `config ${config}: ${TENANTS} tenants, ${model.sources.length} sources × ${model.ksvcs.length} targets × 5 paths = ${pairs} path results (${allowed} allowed in some variant)`,
);
console.log(
  `policies: ${objects.filter((o) => o.kind === 'AuthorizationPolicy').length} AuthorizationPolicies; eventing rows checked: ${rep.eventing.length} expanded, ${rep.findings.length} findings`,
);
console.log(
  `source classes: ${rep.stats.sourceClasses} (per target and path: min ${Math.min(...classCounts)}, max ${Math.max(...classCounts)})`,
);
console.log(`hop evaluations: ${rep.stats.evaluations}; required edges: ${rep.requiredEdges.length}; violations: ${rep.violations}`);
console.log(
  `model ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} MB, heap used ${mb(process.memoryUsage().heapUsed)} MB`,
);
if (rep.violations > 0) {
  console.error(rep.surprises.slice(0, 5).join('\n'));
  process.exitCode = 1;
}
