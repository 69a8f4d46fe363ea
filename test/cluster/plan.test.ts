import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffObject, normalizeForDiff } from '../../src/cluster/diff.ts';
import { detectPlatform, missingApiMessage } from '../../src/cluster/discovery.ts';
import { describeError } from '../../src/cluster/ops.ts';
import { ApiError, UnreachableError } from '../../src/cluster/client.ts';
import {
  APPLIED_HASH,
  FIELD_MANAGER,
  controlPlaneMove,
  clusterRequirements,
  MANAGED_BY,
  SPEC_LABEL,
  contains,
  isUnchanged,
  kindsToList,
  mapLimit,
  parseDuration,
  planPhases,
  readyState,
  selectPrune,
  withOwnership,
} from '../../src/cluster/plan.ts';
import { render } from '../../src/render/index.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const ap = (name: string, namespace: string, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: {},
});

describe('phases', () => {
  it('orders the documented procedure: namespaces, control plane, member roll, gateways, Knative CRs, policies', () => {
    const objects = render(example('ossm2-tenants'), { tls: TEST_TLS });
    const phases = planPhases([...objects].reverse());
    assert.deepEqual(
      phases.map((p) => p.id),
      ['namespaces', 'control-plane', 'member-roll', 'gateways', 'knative', 'policies'],
    );
    assert.deepEqual(
      phases[1]!.objects.map((o) => o.kind),
      ['ServiceMeshControlPlane'],
    );
    assert.ok(phases[3]!.objects.some((o) => o.kind === 'Secret') && phases[3]!.objects.some((o) => o.kind === 'Gateway'));
    assert.ok(phases[5]!.objects.every((o) => o.kind === 'AuthorizationPolicy'));
    assert.equal(phases.flatMap((p) => p.objects).length, objects.length);
  });

  it('puts Knative Services after the policies (their API exists only once KnativeServing is Ready)', () => {
    const ksvc: KubeObject = { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 's', namespace: 'n' } };
    const phases = planPhases([ksvc, ap('a', 'n'), ns('n')]);
    assert.deepEqual(
      phases.map((p) => p.id),
      ['namespaces', 'policies', 'workloads'],
    );
  });
});

describe('ownership and change detection', () => {
  it('adds both labels and a content hash without mutating the input', () => {
    const o = ap('a', 'n', { keep: 'me' });
    const b = withOwnership(o, 'prod');
    assert.deepEqual(b.metadata.labels, { keep: 'me', [MANAGED_BY]: 'serverless-mesh', [SPEC_LABEL]: 'prod' });
    assert.match(b.metadata.annotations![APPLIED_HASH]!, /^[0-9a-f]{20}$/);
    assert.equal(o.metadata.annotations, undefined);
    assert.equal(withOwnership(o, 'prod').metadata.annotations![APPLIED_HASH], b.metadata.annotations![APPLIED_HASH]);
    assert.notEqual(
      withOwnership({ ...o, spec: { action: 'DENY' } }, 'prod').metadata.annotations![APPLIED_HASH],
      b.metadata.annotations![APPLIED_HASH],
    );
  });

  it('fills Service port protocol (SSA before 1.21 rejects a list-map key without it)', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n' },
      spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] },
    };
    assert.deepEqual((withOwnership(svc, 'x').spec as { ports: unknown[] }).ports, [
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
    assert.deepEqual(svc.spec, { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }, 'input mutated');
    const ks: KubeObject = {
      apiVersion: 'operator.knative.dev/v1beta1',
      kind: 'KnativeServing',
      metadata: { name: 'k', namespace: 'knative-serving' },
      spec: {},
    };
    assert.equal(withOwnership(ks, 'x').spec, undefined);
    assert.deepEqual(ks.spec, {}, 'input mutated');
  });

  it('contains: subset of maps, same-length lists', () => {
    assert.ok(contains({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { d: 2 }] } }));
    assert.ok(!contains({ a: [1, 2] }, { a: [1] }));
    assert.ok(!contains({ a: { b: 1 } }, { a: { b: 2 } }));
    assert.ok(!contains({}, { a: null }));
  });

  it('unchanged only when the hash matches and every field we set is still live', () => {
    const desired = withOwnership(ap('a', 'n'), 's');
    desired.spec = { action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['8022'] } }] }] };
    const d = withOwnership(desired, 's');
    const live: KubeObject = {
      ...structuredClone(d),
      metadata: { ...structuredClone(d.metadata), resourceVersion: '7', uid: 'u' },
      status: {},
    };
    assert.ok(isUnchanged(d, live));
    assert.ok(!isUnchanged(d, undefined));
    const drifted = structuredClone(live);
    (drifted.spec as { action: string }).action = 'DENY'; // someone edited a field we own
    assert.ok(!isUnchanged(d, drifted));
    const oldHash = structuredClone(live);
    oldHash.metadata.annotations![APPLIED_HASH] = 'other';
    assert.ok(!isUnchanged(d, oldHash)); // we removed a field since the last apply
  });
});

describe('prune selection', () => {
  const owned = (o: KubeObject, spec = 's') => withOwnership(o, spec);
  it('selects exactly the owned objects no longer rendered, policies before namespaces', () => {
    const desired = [owned(ns('a')), owned(ap('p1', 'a'))];
    const live = [owned(ns('a')), owned(ap('p1', 'a')), owned(ap('p2', 'b')), owned(ns('b')), owned(ap('p3', 'c'), 'other-spec')];
    const victims = selectPrune(desired, live, 's');
    assert.deepEqual(
      victims.map((v) => `${v.kind}/${v.metadata.name}`),
      ['AuthorizationPolicy/p2', 'Namespace/b'],
    );
  });

  it('never selects an object without our labels, even when handed one', () => {
    const lookalike = ap('allow-team-x-to-activator', 'knative-serving');
    const halfLabelled = ap('p', 'n', { [SPEC_LABEL]: 's' });
    assert.deepEqual(selectPrune([], [lookalike, halfLabelled], 's'), []);
  });

  it('lists the desired kinds plus the catalogue, each group/kind once', () => {
    const kinds = kindsToList([ap('a', 'n'), ns('n')]);
    const keys = kinds.map((k) => `${k.apiVersion}/${k.kind}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(keys.includes('maistra.io/v2/ServiceMeshControlPlane'));
    assert.equal(keys.filter((k) => k.endsWith('/AuthorizationPolicy')).length, 1);
  });
});

describe('readiness', () => {
  const ks = (status: unknown, generation = 2): KubeObject => ({
    apiVersion: 'operator.knative.dev/v1beta1',
    kind: 'KnativeServing',
    metadata: { name: 'ks', namespace: 'knative-serving', generation },
    ...(status ? { status } : {}),
  });
  it('Ready=True for the current generation', () => {
    assert.equal(readyState(ks({ observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] })).ready, true);
  });
  it('a Ready from an older generation does not count', () => {
    const st = readyState(ks({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }));
    assert.equal(st.ready, false);
    assert.match(st.summary, /not seen generation 2/);
  });
  it('summarises conditions for the timeout message', () => {
    const st = readyState(
      ks({
        conditions: [
          { type: 'Ready', status: 'False', reason: 'Installing', message: 'waiting for deployments' },
          { type: 'DependenciesInstalled', status: 'True' },
        ],
      }),
    );
    assert.equal(st.summary, 'Ready=False (Installing: waiting for deployments); DependenciesInstalled=True');
    assert.match(readyState(ks(undefined)).summary, /no status conditions yet/);
  });
  it('parses durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.throws(() => parseDuration('5 minutes'), /invalid duration/);
  });
});

describe('diff formatting', () => {
  it('unified diff with server bookkeeping stripped; empty when equal', () => {
    const live = { ...ap('a', 'n'), spec: { action: 'ALLOW' } };
    live.metadata.resourceVersion = '1';
    live.metadata.managedFields = [{ manager: 'x' }];
    const next = { ...structuredClone(live), spec: { action: 'DENY' } };
    next.metadata.resourceVersion = '2';
    assert.equal(diffObject(live, structuredClone(live)), '');
    const d = diffObject(live, next);
    assert.match(d, /^--- live\/security\.istio\.io\/v1beta1\/AuthorizationPolicy\/n\/a\n\+\+\+ applied\//);
    assert.match(d, /\n- {2}action: ALLOW\n\+ {2}action: DENY\n/);
    assert.doesNotMatch(d, /resourceVersion|managedFields/);
    assert.match(diffObject(undefined, next), /^--- \/dev\/null/);
    assert.match(diffObject(live, undefined), /\+\+\+ \/dev\/null/);
  });

  it('never prints Secret values (a changed key shows as a changed digest)', () => {
    const s = (key: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'w', namespace: 'i' },
      data: { 'tls.key': key },
    });
    const secretB64 = Buffer.from('-----BEGIN PRIVATE KEY-----secret').toString('base64');
    const d = diffObject(s('b2xk'), s(secretB64));
    assert.ok(d.length > 0);
    assert.doesNotMatch(d, new RegExp(secretB64.slice(0, 12)));
    assert.match(d, /<redacted sha256:[0-9a-f]{12}>/);
    assert.equal((normalizeForDiff(s('abc'))!.data as Record<string, string>)['tls.key']!.includes('abc'), false);
  });
});

describe('errors and discovery messages', () => {
  const info = {
    group: 'security.istio.io',
    version: 'v1beta1',
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    namespaced: true,
  };
  const obj = ap('a', 'n');
  it('403 names the verb and the resource', () => {
    const e = new ApiError(
      403,
      {
        message:
          'authorizationpolicies.security.istio.io "a" is forbidden: User "limited" cannot patch resource "authorizationpolicies" in API group "security.istio.io" in the namespace "n"',
      },
      'PATCH',
      '/x',
    );
    assert.match(
      describeError(e, 'patch', info, obj),
      /^AuthorizationPolicy\/n\/a: forbidden \(403\): missing permission to patch authorizationpolicies\.security\.istio\.io in namespace "n"/,
    );
  });
  it('409 lists conflicting fields and their manager', () => {
    const e = new ApiError(
      409,
      {
        reason: 'Conflict',
        message: 'Apply failed with 2 conflicts',
        details: {
          causes: [
            {
              type: 'FieldManagerConflict',
              message: 'conflict with "kubectl-edit" using security.istio.io/v1beta1',
              field: '.spec.action',
            },
            { type: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using security.istio.io/v1beta1', field: '.spec.rules' },
          ],
        },
      },
      'PATCH',
      '/x',
    );
    assert.equal(
      describeError(e, 'patch', info, obj),
      'AuthorizationPolicy/n/a: conflict (409): .spec.action, .spec.rules owned by "kubectl-edit"; re-run with --force-conflicts to take these fields over',
    );
  });
  it('webhook denial, 401, unreachable', () => {
    assert.match(
      describeError(
        new ApiError(400, { message: 'admission webhook "v.example.com" denied the request: no' }, 'PATCH', '/x'),
        'patch',
        info,
        obj,
      ),
      /denied by admission webhook: admission webhook "v\.example\.com" denied the request: no/,
    );
    assert.match(describeError(new ApiError(401, { message: 'Unauthorized' }, 'GET', '/x'), 'get', info), /unauthorized \(401\)/);
    assert.match(
      describeError(new UnreachableError('https://127.0.0.1:1', 'connect ECONNREFUSED'), 'patch', info, obj),
      /cluster https:\/\/127\.0\.0\.1:1 unreachable: connect ECONNREFUSED/,
    );
  });
  it('a missing API names the operator to install', () => {
    const groups = new Map([
      ['', ['v1']],
      ['networking.istio.io', ['v1beta1']],
    ]);
    assert.match(missingApiMessage('maistra.io/v2', 'ServiceMeshControlPlane', groups), /install the OpenShift Service Mesh 2\.x operator/);
    assert.match(missingApiMessage('operator.serverless.openshift.io/v1alpha1', 'KnativeKafka', groups), /OpenShift Serverless operator/);
    assert.match(missingApiMessage('networking.istio.io/v1', 'Gateway', groups), /serves v1beta1/);
  });
  it('detects the mesh flavour from the served groups', () => {
    const g = (...names: string[]) => new Map(names.map((n) => [n, ['v1']]));
    assert.equal(detectPlatform(g('maistra.io', 'networking.istio.io')).mesh, 'maistra');
    assert.equal(detectPlatform(g('sailoperator.io', 'networking.istio.io')).mesh, 'sail-operator');
    assert.equal(detectPlatform(g('networking.istio.io')).mesh, 'istio');
    assert.deepEqual(detectPlatform(g('operator.knative.dev', 'route.openshift.io')), {
      mesh: 'none',
      knativeOperator: true,
      knativeKafka: false,
      openshiftRoute: true,
    });
  });
});

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let max = 0;
    const out = await mapLimit([...Array(20).keys()], 3, async (i) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return i * 2;
    });
    assert.deepEqual(
      out,
      [...Array(20).keys()].map((i) => i * 2),
    );
    assert.equal(max, 3);
  });
});

describe('controlPlaneMove: a spec whose control plane moved is refused', () => {
  const own = (o: KubeObject): KubeObject => ({
    ...o,
    metadata: { ...o.metadata, labels: { [MANAGED_BY]: FIELD_MANAGER, [SPEC_LABEL]: 's' } },
  });
  const smcp = (ns: string, name = 'basic'): KubeObject => ({
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name, namespace: ns },
  });
  const smmr = (ns: string): KubeObject => ({
    apiVersion: 'maistra.io/v1',
    kind: 'ServiceMeshMemberRoll',
    metadata: { name: 'default', namespace: ns },
  });

  it('same control plane: nothing to say', () => {
    assert.equal(
      controlPlaneMove([smcp('istio-system'), smmr('istio-system')], [own(smcp('istio-system')), own(smmr('istio-system'))], 's'),
      undefined,
    );
  });
  it('mesh namespace changed: refused, naming both', () => {
    const why = controlPlaneMove([smcp('mesh-2'), smmr('mesh-2')], [own(smcp('istio-system')), own(smmr('istio-system'))], 's');
    assert.match(why ?? '', /from ServiceMeshControlPlane istio-system\/basic to mesh-2\/basic/);
  });
  it('names the control plane even when the member roll was listed first', () => {
    const why = controlPlaneMove([smcp('mesh-2'), smmr('mesh-2')], [own(smmr('istio-system')), own(smcp('istio-system'))], 's');
    assert.match(why ?? '', /from ServiceMeshControlPlane istio-system\/basic to mesh-2\/basic/);
  });
  it('control plane renamed: refused', () => {
    assert.ok(controlPlaneMove([smcp('istio-system', 'prod')], [own(smcp('istio-system'))], 's'));
  });
  it("another spec's or an unlabelled control plane is not ours to protect here", () => {
    assert.equal(controlPlaneMove([smcp('mesh-2')], [smcp('istio-system')], 's'), undefined);
    assert.equal(controlPlaneMove([smcp('mesh-2')], [own(smcp('istio-system'))], 'other'), undefined);
  });
  it('other kinds moving (a tenant removed) are ordinary prunes', () => {
    const ap: KubeObject = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'x', namespace: 't' },
    };
    assert.equal(controlPlaneMove([smcp('istio-system')], [own(smcp('istio-system')), own(ap)], 's'), undefined);
  });
});

describe('cluster requirements (profile.apply, checked before any write)', () => {
  it("ossm2 / ossm3 need their operator's CRD; istio needs the user's istiod where spec.mesh.namespace says", () => {
    assert.deepEqual(clusterRequirements(example('ossm2-tenants').spec), {
      crd: {
        group: 'maistra.io',
        plural: 'servicemeshcontrolplanes',
        name: 'servicemeshcontrolplanes.maistra.io',
        operator: 'OpenShift Service Mesh 2.x operator (servicemeshoperator)',
      },
    });
    assert.deepEqual(clusterRequirements(example('ossm3-tenants').spec).crd?.group, 'sailoperator.io');
    assert.equal(clusterRequirements(example('ossm3-tenants').spec).deployment, undefined);
    const istio = example('istio-tenants');
    assert.deepEqual(clusterRequirements(istio.spec), {
      deployment: {
        namespace: 'istio-system',
        name: 'istiod',
        why: 'the istio flavour uses the control plane you installed (istioctl install or the istiod Helm chart)',
      },
    });
    istio.spec.mesh.namespace = 'mesh';
    assert.equal(clusterRequirements(istio.spec).deployment?.namespace, 'mesh');
  });
});
