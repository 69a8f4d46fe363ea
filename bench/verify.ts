// verify at scale on the policies render() produces, across the five paths (and the eventing paths).
// Configurations (each: target < 2 s, < 500 MB):
//   default        1,000 tenants × 2 namespaces, one representative ksvc per namespace
//   openshift-max  5,000 tenants × 2 namespaces = 10,000 namespaces (OpenShift's tested maximum) with
//                  3,000 ksvc manifests (Serverless' stated maximum), one in each of the first 3,000 namespaces
//   ns-max         10,000 namespaces, one representative ksvc each (the "today" figure)
// Usage: bench/verify.ts [TENANTS] | bench/verify.ts openshift-max | bench/verify.ts ns-max
// Reported: wall time of model + verify (what the targets are about; rendering the input is not
// timed), the CPU time spent in it, the process's peak RSS (resourceUsage maxRSS: rendering
// included) and whether both targets hold. The machine is shared: take the median of several runs.
import { modelFromObjects } from '../src/authz/knative.ts';
import { verifyModel } from '../src/verify/index.ts';
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

const TARGET_MS = 2000;
const TARGET_MB = 500;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
const t1 = performance.now();
const rep = verifyModel(model, { expandRows: false });
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);

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
const rss = process.resourceUsage().maxRSS * 1024;
const wall = t2 - t0;
console.log(
  `model ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms, total ${wall.toFixed(0)} ms wall (${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU); peak RSS ${mb(rss)} MB, heap used ${mb(process.memoryUsage().heapUsed)} MB; process ${(process.uptime() * 1000).toFixed(0)} ms`,
);
const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
console.log(
  `targets (${config}): wall ${wall.toFixed(0)} ms < ${TARGET_MS} ms ${ok(wall < TARGET_MS)}; peak RSS ${mb(rss)} MB < ${TARGET_MB} MB ${ok(rss < TARGET_MB * 1024 * 1024)}`,
);
if (rep.violations > 0) {
  console.error(rep.surprises.slice(0, 5).join('\n'));
  process.exitCode = 1;
}
