/**
 * bench/render: 1,000 tenants × 3 namespaces, for every mesh flavour. Measures render (spec → objects)
 * and, as the floor, YAML serialisation of the same objects. Target per flavour: render + serialise
 * < 1 s and ≤ 1.5× the floor. Run: npm run bench:render (FLAVORS=ossm3 to pick some). Each flavour
 * runs in a process of its own, so one flavour's heap does not slow the next.
 */
import { spawnSync } from 'node:child_process';
import { parseSpec } from '../src/api/load.ts';
import type { MeshFlavor } from '../src/api/types.ts';
import { PROFILES } from '../src/flavors/index.ts';
import { tenantSpecText } from './tenant-spec.ts';
import { render } from '../src/render/index.ts';
import { toYaml } from '../src/render/serialize.ts';

const TENANTS = Number(process.env.TENANTS ?? 1000);
const NAMESPACES = 3;
const RUNS = Number(process.env.RUNS ?? 5);
const FLAVORS = (process.env.FLAVORS?.split(',') ?? Object.keys(PROFILES)) as MeshFlavor[];

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

let ok = true;
if (!process.env.FLAVORS) {
  for (const flavor of FLAVORS) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, FLAVORS: flavor },
    });
    ok &&= r.status === 0;
  }
}
for (const flavor of process.env.FLAVORS ? FLAVORS : []) {
  // NETPOL=generate: with the NetworkPolicies (ossm3/istio: one per path and namespace).
  const netpol = process.env.NETPOL ? `  networkPolicies: ${process.env.NETPOL}\n` : '';
  const specText = tenantSpecText(
    TENANTS,
    NAMESPACES,
    `  mesh: {flavor: ${flavor}}\n  kafka: {bootstrapServers: [my-cluster-kafka-bootstrap.kafka:9092]}\n${netpol}`,
  );
  const t0 = process.hrtime.bigint();
  const mesh = parseSpec('bench.yaml', specText);
  const loadMs = ms(t0);

  // Warm-up run (JIT), then the median of RUNS.
  let objects = render(mesh);
  toYaml(objects);
  const renderTimes: number[] = [];
  const yamlTimes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = process.hrtime.bigint();
    objects = render(mesh);
    renderTimes.push(ms(r));
    const y = process.hrtime.bigint();
    bytes = toYaml(objects).length;
    yamlTimes.push(ms(y));
  }
  const renderMs = median(renderTimes);
  const yamlMs = median(yamlTimes);
  const endToEndMs = renderMs + yamlMs; // what `serverless-mesh render` does after loading the spec
  const ratio = endToEndMs / yamlMs;
  const pass = endToEndMs < 1000 && ratio <= 1.5;
  ok &&= pass;
  console.log(
    `[${flavor}] tenants=${TENANTS} namespaces=${TENANTS * NAMESPACES} objects=${objects.length} yaml=${(bytes / 1e6).toFixed(1)} MB`,
  );
  console.log(`[${flavor}] spec load+validate: ${loadMs.toFixed(0)} ms`);
  console.log(`[${flavor}] render (median of ${RUNS}): ${renderMs.toFixed(1)} ms`);
  console.log(`[${flavor}] yaml serialise (floor, median of ${RUNS}): ${yamlMs.toFixed(1)} ms`);
  console.log(
    `[${flavor}] render + serialise: ${endToEndMs.toFixed(1)} ms = ${ratio.toFixed(2)}x the floor  (targets: < 1000 ms, <= 1.5x)${pass ? '' : '  FAIL'}`,
  );
}
process.exitCode = ok ? 0 : 1;
