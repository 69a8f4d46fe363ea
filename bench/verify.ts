// verify at scale: 1,000 tenants × 2 namespaces × 1 ksvc (2,000 sources × 2,000 targets × 5 paths)
// on the policies render() produces. Target < 2 s, reached through source equivalence classes.
import { modelFromObjects } from '../src/authz/knative.ts';
import { verifyModel } from '../src/authz/verify.ts';
import { render } from '../src/render/index.ts';
import { tenantSpec } from './tenant-spec.ts';

const TENANTS = Number(process.argv[2] ?? 1000);
// Two namespaces per tenant, as the benchmark asks.
const mesh = tenantSpec(TENANTS, 2);
const objects = render(mesh);

const t0 = performance.now();
const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
const t1 = performance.now();
const rep = verifyModel(model, { expandRows: false });
const t2 = performance.now();

let pairs = 0;
let allowed = 0;
const perTarget = new Map<string, number>();
for (const tp of rep.byTarget) {
  const key = `${tp.target.namespace}|${tp.via}`;
  perTarget.set(key, tp.classes.length);
  for (const c of tp.classes) {
    pairs += c.size;
    if (c.outcomes.some((o) => o.allowed)) allowed += c.size;
  }
}
const classCounts = [...perTarget.values()];
console.log(`tenants ${TENANTS}: ${model.sources.length} sources × ${model.ksvcs.length} targets × 5 paths = ${pairs} path results (${allowed} allowed in some variant)`);
console.log(`policies: ${objects.filter((o) => o.kind === 'AuthorizationPolicy').length} AuthorizationPolicies`);
console.log(`source classes: ${rep.stats.sourceClasses} (per target and path: min ${Math.min(...classCounts)}, max ${Math.max(...classCounts)})`);
console.log(`hop evaluations: ${rep.stats.evaluations}; required edges: ${rep.requiredEdges.length}; violations: ${rep.violations}`);
console.log(`model ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms`);
if (rep.violations > 0) {
  console.error(rep.surprises.slice(0, 5).join('\n'));
  process.exitCode = 1;
}
