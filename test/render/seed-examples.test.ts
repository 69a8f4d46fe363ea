/**
 * Every YAML example of the product documentation (seed 001) must appear, field by field, in the
 * render of the matching example spec. The examples are extracted from the seed here, at test
 * time; placeholders are replaced by the example's values. Where the documentation contradicts
 * the real API, the correction is listed in CORRECTIONS and applied to the expected object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { render } from '../../src/render/index.ts';
import { meshReadyKsvc } from '../../src/render/ksvc.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, readShared, TEST_TLS } from '../helpers/shared.ts';

const SEED = readShared('seeds', '001_91eb9dd56ab844d6.txt');

/** The ```yaml blocks of the seed, with callout numbers and `...` elision lines removed. */
function seedYamlDocs(text: string): unknown[] {
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const docs: unknown[] = [];
  for (const block of blocks) {
    const cleaned = block
      .split('\n')
      .filter((l) => l.trim() !== '...')
      // "mtls: true 1", "members: 1": the trailing digit is a callout marker in the docs.
      .map((l) => l.replace(/^(.*[^\s\d])\s+[1-9]$/, '$1'))
      .join('\n');
    for (const part of cleaned.split(/^---\s*$/m)) {
      const value = parse(part);
      if (value !== null && value !== undefined) docs.push(value);
    }
  }
  return docs;
}

/** Placeholder → value from the spec (arrays are spliced into the list that holds them). */
function placeholders(mesh: ServerlessMesh): Record<string, unknown> {
  const s = mesh.spec;
  return {
    '<wildcard_certs>': s.tls.secretName,
    '<bootstrap_servers>': s.kafka?.bootstrapServers.join(','),
    '<num_partitions>': s.kafka?.numPartitions,
    '<replication_factor>': s.kafka?.replicationFactor,
    '<bootstrap_servers_without_port>': s.kafka?.bootstrapServers.map((b) => b.replace(/:\d+$/, '')),
    'your-OpenShift-projects': s.members,
    '<service_name>': 'hello',
    '<namespace>': 'your-project',
    '<image_url>': 'quay.io/openshift-knative/helloworld:v1.2',
  };
}

function substitute(value: unknown, subs: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (value in subs) return subs[value];
    return value.replace(/<your-istio-namespace>/g, 'istio-system');
  }
  if (Array.isArray(value)) {
    return value.flatMap((v) => {
      const r = substitute(v, subs);
      return typeof v === 'string' && Array.isArray(r) ? r : [r];
    });
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, subs)]));
  }
  return value;
}

/**
 * Documented deviations: each names the reason and rewrites the expected object.
 */
const CORRECTIONS: Array<{ why: string; apply: (doc: any) => void }> = [
  {
    why: 'KnativeKafka: the docs indent `sink` under `broker`; the real CRD has `spec.sink` (broker has no `sink` field)',
    apply: (doc) => {
      if (doc.kind === 'KnativeKafka' && doc.spec?.broker?.sink) {
        doc.spec.sink = doc.spec.broker.sink;
        delete doc.spec.broker.sink;
      }
    },
  },
  {
    why: 'sidecar injection is requested with the pod label (seed 004, Istio IST0135), not the deprecated annotation',
    apply: (doc) => {
      const move = (entry: any) => {
        const inject = entry?.annotations?.['sidecar.istio.io/inject'];
        if (inject === undefined) return;
        delete entry.annotations['sidecar.istio.io/inject'];
        entry.labels = { ...(entry.labels ?? {}), 'sidecar.istio.io/inject': inject };
      };
      for (const list of [doc.spec?.deployments, doc.spec?.workloads]) if (Array.isArray(list)) list.forEach(move);
      if (doc.kind === 'Service' && doc.apiVersion?.startsWith('serving.knative.dev')) move(doc.spec.template.metadata);
    },
  },
  {
    why: 'ServiceEntry: the docs repeat port names (tcp-tls, tcp-sasl-tls); Istio rejects that ("service entry port name already defined"), so 9095/9096 get unique names',
    apply: (doc) => {
      if (doc.kind !== 'ServiceEntry') return;
      for (const p of doc.spec.ports) {
        if (p.number === 9095) p.name = 'tcp-sasl-plain';
        if (p.number === 9096) p.name = 'tcp-tls-noauth';
      }
    },
  },
];

/** Items the render adds to a documented list, by design; any other addition fails. */
const ALLOWED_ADDITIONS = new Set(['KnativeEventing spec.workloads: job-sink']);

/**
 * `expected` ⊆ `actual`: every field equal. Lists of named objects are compared by name (order
 * free, additions collected); other lists must be equal element by element, or — for partial
 * snippets of the docs (`contains`) — contain the expected items.
 */
function assertSubset(expected: unknown, actual: unknown, path: string, additions: string[], contains: boolean): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected a list, got ${JSON.stringify(actual)}`);
    const named =
      expected.every((e) => e && typeof e === 'object' && 'name' in e) && actual.every((a) => a && typeof a === 'object' && 'name' in a);
    if (named) {
      for (const e of expected as Array<{ name: string }>) {
        const a = (actual as Array<{ name: string }>).find((x) => x.name === e.name);
        assert.ok(a, `${path}: missing item named ${e.name}`);
        assertSubset(e, a, `${path}[name=${e.name}]`, additions, contains);
      }
      for (const a of actual as Array<{ name: string }>) {
        if (!(expected as Array<{ name: string }>).some((e) => e.name === a.name)) additions.push(`${path}: ${a.name}`);
      }
      return;
    }
    if (contains) {
      for (const e of expected)
        assert.ok(
          actual.some((a) => JSON.stringify(a) === JSON.stringify(e)),
          `${path}: missing ${JSON.stringify(e)}`,
        );
      return;
    }
    assert.equal(actual.length, expected.length, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => assertSubset(e, actual[i], `${path}[${i}]`, additions, contains));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) {
      assertSubset(v, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k, additions, contains);
    }
    return;
  }
  assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

interface Case {
  title: string;
  exampleName: string;
  override?: (m: ServerlessMesh) => void;
  expected: any;
  /** A snippet without apiVersion/kind: which rendered kind it belongs to. */
  fragmentOf?: string;
}

function caseFor(doc: any, index: number): Case {
  const annotations = doc.metadata?.annotations ?? {};
  const envVars = JSON.stringify(doc.spec?.workloads ?? '');
  let exampleName = 'ossm2-basic';
  let override: Case['override'];
  if (doc.kind === 'KnativeKafka' || doc.kind === 'ServiceEntry') exampleName = 'ossm2-kafka';
  if ('serverless.openshift.io/disable-istio-net-policies-generation' in annotations) exampleName = 'ossm2-kafka';
  if (envVars.includes('ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID')) override = (m) => void (m.spec.secretFiltering = false);
  const title = doc.kind ? `#${index + 1} ${doc.kind} ${doc.metadata?.name}` : `#${index + 1} fragment`;
  return {
    title,
    exampleName,
    ...(override ? { override } : {}),
    expected: doc,
    ...(doc.kind ? {} : { fragmentOf: 'ServiceMeshControlPlane' }),
  };
}

const docs = seedYamlDocs(SEED);

describe('seed 001 examples appear in the render', () => {
  it('extracts all 16 YAML examples of the seed', () => {
    assert.equal(docs.length, 16);
  });

  const additions: string[] = [];
  docs.forEach((raw, i) => {
    const c = caseFor(raw, i);
    it(`${c.title} (${c.exampleName}${c.override ? ', variant' : ''})`, () => {
      const mesh = example(c.exampleName);
      c.override?.(mesh);
      const expected: any = substitute(structuredClone(c.expected), placeholders(mesh));
      for (const corr of CORRECTIONS) corr.apply(expected);
      let actual: KubeObject | undefined;
      if (expected.kind === 'Service' && String(expected.apiVersion).startsWith('serving.knative.dev')) {
        actual = meshReadyKsvc({ name: 'hello', namespace: 'your-project', image: 'quay.io/openshift-knative/helloworld:v1.2' });
      } else {
        const objects = render(mesh, { tls: TEST_TLS });
        const kind = c.fragmentOf ?? expected.kind;
        actual = objects.find(
          (o) =>
            o.kind === kind &&
            (c.fragmentOf !== undefined ||
              (o.metadata.name === expected.metadata.name &&
                (expected.metadata.namespace === undefined || o.metadata.namespace === expected.metadata.namespace))),
        );
      }
      assert.ok(actual, `no rendered ${expected.kind} ${expected.metadata?.name}`);
      const found: string[] = [];
      assertSubset(expected, actual, '', found, c.fragmentOf !== undefined);
      for (const a of found) {
        const key = `${actual.kind} ${a.replace(/^\./, '')}`;
        assert.ok(ALLOWED_ADDITIONS.has(key), `unexpected addition to a documented list: ${key}`);
        additions.push(key);
      }
    });
  });

  it('the only additions to documented lists are the intended ones', () => {
    assert.deepEqual([...new Set(additions)].sort(), [...ALLOWED_ADDITIONS].sort());
  });
});

describe('seed 004: injection by pod label on every documented workload', () => {
  // 004 is flattened text: `- name: X labels: "sidecar.istio.io/inject": "true" annotations: "…rewriteAppHTTPProbers": "true"`
  const seed004 = readShared('seeds', '004_16a8490ebae3fd9c.txt');
  const workloads = [
    ...seed004.matchAll(
      /- name: ([a-z-]+) labels: "sidecar\.istio\.io\/inject": "true" annotations: "sidecar\.istio\.io\/rewriteAppHTTPProbers": "true"/g,
    ),
  ].map((m) => m[1] as string);

  it('finds the 13 labelled workloads of seed 004', () => {
    assert.equal(workloads.length, 13);
  });

  it('every one carries the label and the probe-rewrite annotation in the render', () => {
    const objects = [...render(example('ossm2-basic'), { tls: TEST_TLS }), ...render(example('ossm2-kafka'))];
    const overrides = objects
      .filter((o) => ['KnativeServing', 'KnativeEventing', 'KnativeKafka'].includes(o.kind))
      .flatMap((o) => [...(((o as any).spec.deployments ?? []) as any[]), ...(((o as any).spec.workloads ?? []) as any[])]);
    for (const name of workloads) {
      const w = overrides.find((x) => x.name === name);
      assert.ok(w, `workload ${name} not rendered`);
      assert.equal(w.labels?.['sidecar.istio.io/inject'], 'true', `${name}: inject label`);
      assert.equal(w.annotations?.['sidecar.istio.io/rewriteAppHTTPProbers'], 'true', `${name}: rewrite annotation`);
      assert.equal(w.annotations?.['sidecar.istio.io/inject'], undefined, `${name}: no deprecated inject annotation`);
    }
  });
});
