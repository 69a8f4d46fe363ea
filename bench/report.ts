// The HTML report at scale: 1,000 tenants × 2 namespaces by default (as bench/verify.ts), one
// representative ksvc per namespace. Prints the size (issue 13: under 10 MB, asserted in
// test/report/size.test.ts) and the time of each stage.
// Usage: bench/report.ts [TENANTS]
import { modelFromObjects } from '../src/authz/knative.ts';
import { render } from '../src/render/index.ts';
import { renderHtmlReport } from '../src/report/html.ts';
import { tenantSpec } from './tenant-spec.ts';

const TENANTS = Number(process.argv[2] ?? 1000);
const mesh = tenantSpec(TENANTS, 2);
const t0 = performance.now();
const objects = render({ ...mesh, spec: { ...mesh.spec, tls: { ...mesh.spec.tls, generate: false } } });
const t1 = performance.now();
const model = modelFromObjects(objects, { tenants: mesh.spec.tenants, flavor: 'ossm2' });
const t2 = performance.now();
const tool = { name: 'serverless-mesh', version: '0.1.0', informationUri: 'https://github.com/serverless-mesh/serverless-mesh' };
const res = renderHtmlReport({ model, source: '-f bench.yaml', findings: [], bundle: { title: 'Rendered bundle', objects }, tool });
const t3 = performance.now();
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(`${TENANTS} tenants, ${model.sources.length} sources × ${model.ksvcs.length} targets × 5 paths`);
console.log(`report ${mb(Buffer.byteLength(res.html))} MB; leaks ${res.leaks}, broken ${res.broken}, blocked ${res.blocked}`);
console.log(
  `render ${(t1 - t0).toFixed(0)} ms, model ${(t2 - t1).toFixed(0)} ms, report (verify + matrix + HTML) ${(t3 - t2).toFixed(0)} ms; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
