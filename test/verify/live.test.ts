// Issue 13 §2: `verify --live`, the pure half — the probe plan (pods, requests, predictions), the script
// a probe pod runs (executed here with a stand-in curl that plays back recorded answers), and the
// comparison of recorded probe output with the prediction. The recorded answers are synthetic: shaped
// after docs §2.4's examples (200 "Hello Serverless!", 403 "RBAC: access denied") and curl's exit codes,
// not captured from a cluster.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { modelFromObjects, type KnativeModel } from '../../src/authz/knative.ts';
import type { ServerlessMesh } from '../../src/api/types.ts';
import { render } from '../../src/render/index.ts';
import { classifyResult, compareLive, parseProbeOutput, type PodOutcome, type ProbeResult } from '../../src/verify/live-compare.ts';
import {
  buildLivePlan,
  DEFAULT_PROBE_IMAGE,
  PROBE_MARKER,
  PROBE_RUN_LABEL,
  probeScript,
  type LivePlan,
  type LiveTarget,
} from '../../src/verify/live-plan.ts';
import { VERIFY_RULES } from '../../src/verify/findings.ts';
import { example, TEST_TLS } from '../helpers/shared.ts';

function modelOf(mesh: ServerlessMesh): KnativeModel {
  return modelFromObjects(render(mesh, { tls: TEST_TLS }), {
    flavor: mesh.spec.mesh.flavor,
    tenants: mesh.spec.tenants,
    members: mesh.spec.members,
    domain: mesh.spec.domain,
  });
}

const targetsOf = (m: KnativeModel): LiveTarget[] =>
  m.ksvcs.map((k) => ({
    model: k,
    namespace: k.namespace,
    name: 'hello',
    revision: 'hello-00002',
    externalUrl: `https://hello-${k.namespace}.${m.domain}`,
  }));

const ossm2 = modelOf(example('ossm2-tenants'));
const ossm3 = modelOf(example('ossm3-tenants'));

type Pod = { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, any> };

describe('verify --live: the probe plan', () => {
  const plan = buildLivePlan(ossm2, targetsOf(ossm2), { runId: 'r1a2b3' });

  it('one pod with and one without sidecar per source namespace, labelled with the run', () => {
    assert.deepEqual(
      plan.pods.map((p) => `${p.namespace}/${p.name}`),
      ossm2.sources.flatMap((ns) => [`${ns}/sm-probe-r1a2b3`, `${ns}/sm-probe-r1a2b3-nosidecar`]),
    );
    for (const p of plan.pods) {
      const pod = p.manifest as unknown as Pod;
      assert.equal(pod.metadata.labels[PROBE_RUN_LABEL], 'r1a2b3');
      assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'serverless-mesh');
      assert.equal(pod.spec.serviceAccountName, 'default');
      assert.equal(pod.spec.automountServiceAccountToken, false);
      assert.equal(pod.spec.containers[0].image, DEFAULT_PROBE_IMAGE);
    }
  });

  it('sidecar injection as the flavour requests it; the no-sidecar pod opts out', () => {
    const [withS, without] = plan.pods as [(typeof plan.pods)[0], (typeof plan.pods)[0]];
    const a = withS.manifest as unknown as Pod;
    // OSSM 2: per-pod opt-in (label and the annotation docs §2.4's curl pod uses).
    assert.equal(a.metadata.labels['sidecar.istio.io/inject'], 'true');
    assert.equal(a.metadata.annotations['sidecar.istio.io/inject'], 'true');
    const b = without.manifest as unknown as Pod;
    assert.equal(b.metadata.labels['sidecar.istio.io/inject'], 'false');
    assert.equal(b.metadata.annotations['sidecar.istio.io/inject'], 'false');
    // OSSM 3: the namespace label injects; the probe must not opt out (no "false" anywhere).
    const p3 = buildLivePlan(ossm3, targetsOf(ossm3), { runId: 'x' }).pods[0]!.manifest as unknown as Pod;
    assert.notEqual(p3.metadata.labels['sidecar.istio.io/inject'], 'false');
    assert.equal(p3.metadata.annotations['sidecar.istio.io/inject'], undefined);
  });

  it('fits the restricted Pod Security Standard (non-root, no escalation, no capabilities, RuntimeDefault seccomp)', () => {
    const pod = plan.pods[0]!.manifest as unknown as Pod;
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(pod.spec.securityContext.runAsUser, undefined, 'OpenShift assigns the UID');
    const c = pod.spec.containers[0].securityContext;
    assert.deepEqual(c, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    const withUid = buildLivePlan(ossm2, targetsOf(ossm2), { runId: 'u', runAsUser: 1001 }).pods[0]!.manifest as unknown as Pod;
    assert.equal(withUid.spec.securityContext.runAsUser, 1001);
  });

  it('a request per target and path: private service, ksvc Host through the local gateway, external URL', () => {
    const reqs = plan.pods[0]!.requests.filter((r) => r.target.namespace === 'team-bravo-1');
    assert.deepEqual(
      reqs.map((r) => [r.via, r.command]),
      [
        ['direct', 'curl --max-time 10 http://hello-00002-private.team-bravo-1.svc.cluster.local/'],
        [
          'local-gateway',
          "curl --max-time 10 -H 'Host: hello.team-bravo-1.svc.cluster.local' http://knative-local-gateway.istio-system.svc.cluster.local/",
        ],
        ['external', 'curl --max-time 10 --insecure https://hello-team-bravo-1.apps.openshift.example.com'],
      ],
    );
    const noSidecar = plan.pods[1]!.requests.map((r) => r.via);
    assert.deepEqual([...new Set(noSidecar)], ['no-sidecar']);
    const withCa = buildLivePlan(ossm2, targetsOf(ossm2), { runId: 'c', caPem: 'x', vias: ['external'] });
    assert.match(withCa.pods[0]!.requests[0]!.command, /--cacert \/tmp\/serverless-mesh-root-ca\.crt https:/);
    assert.equal(withCa.pods.length, ossm2.sources.length, 'no no-sidecar pods when that path is not probed');
  });

  it('carries the simulator prediction: same tenant allowed, cross-tenant refused on in-mesh paths', () => {
    const r = plan.pods[0]!.requests;
    const pred = (to: string, via: string) => r.find((x) => x.target.namespace === to && x.via === via)!.prediction;
    assert.equal(plan.pods[0]!.namespace, 'team-alpha-1');
    assert.deepEqual(pred('team-alpha-2', 'direct'), { ...pred('team-alpha-2', 'direct'), expectation: 'allow' });
    assert.ok(pred('team-alpha-2', 'direct').variants.every((v) => v.allowed));
    assert.equal(pred('team-bravo-1', 'direct').expectation, 'deny');
    assert.ok(pred('team-bravo-1', 'local-gateway').variants.every((v) => !v.allowed));
    assert.equal(pred('team-bravo-1', 'local-gateway').variants.length, 2, 'activator in and out of the path');
  });

  it('rejects a run id that is not a short DNS label', () => {
    assert.throws(() => buildLivePlan(ossm2, [], { runId: 'Bad_ID' }), /run id/);
  });
});

/** A stand-in curl: answers from a table keyed by URL (and Host header), as `-o FILE -w %{http_code}` does. */
function fakeCurl(dir: string, answers: Record<string, { rc: number; http: string; body?: string; err?: string }>): void {
  const cases = Object.entries(answers)
    .map(
      ([key, a]) =>
        `  ${JSON.stringify(key)}) printf '%s' ${JSON.stringify(a.body ?? '')} > "$out"; printf '%s' ${JSON.stringify(a.err ?? '')} >&2; printf '%s' ${a.http}; exit ${a.rc};;`,
    )
    .join('\n');
  const script = `#!/bin/sh
out=/dev/null; host=; url=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift;; -w|--max-time|--cacert) shift;; -H) host=$2; shift;; -*) ;; *) url=$1;;
  esac; shift
done
case "$url|$host" in
${cases}
  *) printf 'curl: (6) Could not resolve host' >&2; printf 000; exit 6;;
esac
`;
  writeFileSync(join(dir, 'curl'), script);
  chmodSync(join(dir, 'curl'), 0o755);
}

describe('verify --live: the probe script', () => {
  it('runs every request and prints one parseable result line each (real sh, stand-in curl)', () => {
    const plan = buildLivePlan(ossm2, targetsOf(ossm2), { runId: 's1', vias: ['direct', 'external'], caPem: 'CA PEM' });
    const pod = plan.pods[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'sm-live-'));
    fakeCurl(dir, {
      'http://hello-00002-private.team-alpha-1.svc.cluster.local/|': { rc: 0, http: '200', body: 'Hello Serverless!' },
      'http://hello-00002-private.team-bravo-1.svc.cluster.local/|': { rc: 0, http: '403', body: 'RBAC: access denied' },
      'http://hello-00002-private.team-bravo-2.svc.cluster.local/|': {
        rc: 28,
        http: '000',
        err: 'curl: (28) Operation timed out after 10001 milliseconds with 0 bytes received',
      },
    });
    const r = spawnSync('sh', ['-c', probeScript(pod, 'CA PEM')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${PROBE_MARKER}-done`));
    const res = parseProbeOutput(r.stdout);
    assert.equal(res.size, pod.requests.length);
    const of = (ns: string) => res.get(pod.requests.find((q) => q.via === 'direct' && q.target.namespace === ns)!.id)!;
    assert.deepEqual(of('team-alpha-1'), { id: of('team-alpha-1').id, rc: 0, http: 200, err: '', body: 'Hello Serverless!' });
    assert.equal(classifyResult(of('team-bravo-1')).verdict, 'refused');
    assert.equal(of('team-bravo-2').rc, 28);
    assert.match(of('team-bravo-2').err, /timed out/);
    // Unlisted (the external URLs): DNS failure from the stand-in.
    assert.equal(res.get(pod.requests.find((q) => q.via === 'external')!.id)!.rc, 6);
  });
});

const rec = (rc: number, http: number, body = '', err = ''): ProbeResult => ({ id: 'x', rc, http, body, err });

describe('verify --live: what a probe result means', () => {
  const cases: Array<[string, ProbeResult, string]> = [
    ['200 from the app (docs §2.4 allowed example)', rec(0, 200, 'Hello Serverless!'), 'reached'],
    ['404 from queue-proxy / the app', rec(0, 404, 'not found'), 'reached'],
    ['403 "RBAC: access denied" (docs §2.4 denied example)', rec(0, 403, 'RBAC: access denied'), 'refused'],
    ['403 with another body: the application answered', rec(0, 403, 'forbidden by app'), 'reached'],
    [
      '503 reset by the server sidecar (mTLS / TCP policy)',
      rec(0, 503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination'),
      'refused',
    ],
    ['503 no healthy upstream', rec(0, 503, 'no healthy upstream'), 'unknown'],
    ['connection reset (curl 56)', rec(56, 0, '', 'curl: (56) Recv failure: Connection reset by peer'), 'refused'],
    ['empty reply (curl 52)', rec(52, 0), 'refused'],
    ['timeout (curl 28)', rec(28, 0), 'unknown'],
    ['DNS failure (curl 6)', rec(6, 0), 'unknown'],
    ['connection refused (curl 7)', rec(7, 0), 'unknown'],
    ['certificate not verified (curl 60)', rec(60, 0), 'unknown'],
  ];
  for (const [what, r, verdict] of cases) it(`${what} → ${verdict}`, () => assert.equal(classifyResult(r).verdict, verdict));

  it('ignores noise and a truncated line', () => {
    const res = parseProbeOutput(`sh: warning\n${PROBE_MARKER} r1 rc=0 http=200 err= body=ok\n${PROBE_MARKER} r2 rc=0 htt\n`);
    assert.deepEqual([...res.keys()], ['r1']);
  });
});

/** Recorded output for every request of a pod, from a verdict per request. */
function recorded(plan: LivePlan, answer: (r: LivePlan['pods'][number]['requests'][number]) => string | null): PodOutcome[] {
  return plan.pods.map((p) => ({
    namespace: p.namespace,
    pod: p.name,
    stdout: p.requests
      .map((r) => answer(r))
      .map((line, i) => (line === null ? '' : `${PROBE_MARKER} ${p.requests[i]!.id} ${line}`))
      .join('\n'),
  }));
}

describe('verify --live: comparison with the prediction', () => {
  const plan = buildLivePlan(ossm2, targetsOf(ossm2), { runId: 'c1' });
  // What a correctly isolated cluster answers: allowed → 200, refused in-mesh → 403 RBAC, no sidecar → reset.
  const faithful = (r: LivePlan['pods'][number]['requests'][number]) =>
    r.prediction.variants.some((v) => v.allowed)
      ? 'rc=0 http=200 err= body=Hello Serverless!'
      : r.via === 'no-sidecar'
        ? 'rc=56 http=000 err=curl: (56) Recv failure: Connection reset by peer body='
        : 'rc=0 http=403 err= body=RBAC: access denied';

  it('agreement everywhere: no findings', () => {
    const rep = compareLive(plan, recorded(plan, faithful));
    assert.deepEqual(rep.findings, []);
    assert.ok(rep.rows.length > 0 && rep.rows.every((r) => r.agrees));
  });

  it('a cross-tenant request that got through is SM5004, named a live leak; a refused same-tenant one is SM5005', () => {
    const rep = compareLive(
      plan,
      recorded(plan, (r) =>
        r.from === 'team-alpha-1' && r.target.namespace === 'team-bravo-1' && r.via === 'direct'
          ? 'rc=0 http=200 err= body=Hello'
          : r.from === 'team-alpha-1' && r.target.namespace === 'team-alpha-2' && r.via === 'local-gateway'
            ? 'rc=0 http=403 err= body=RBAC: access denied'
            : faithful(r),
      ),
    );
    assert.deepEqual(
      rep.findings.map((f) => [f.code, f.message]),
      [
        [
          VERIFY_RULES.liveRefused.code,
          'team-alpha-1 → team-alpha-2/hello via local-gateway: live refused (HTTP 403 "RBAC: access denied" (Envoy RBAC filter)), predicted allowed (same tenant: a broken path)',
        ],
        [
          VERIFY_RULES.liveReached.code,
          'team-alpha-1 → team-bravo-1/hello via direct: live reached the service (HTTP 200), predicted refused (cross-tenant: a live leak)',
        ],
      ],
    );
    assert.equal(rep.findings[1]!.reachability?.hop, 'team-alpha-1/client → team-bravo-1/ksvc-00001 (queue-proxy :8012)');
  });

  it('an unknown outcome (timeout, missing line) is SM5006, counted as neither', () => {
    const first = plan.pods[0]!.requests[0]!;
    const second = plan.pods[0]!.requests[1]!;
    const rep = compareLive(
      plan,
      recorded(plan, (r) => (r === first ? 'rc=28 http=000 err=curl: (28) timeout body=' : r === second ? null : faithful(r))),
    );
    assert.deepEqual(
      rep.findings.map((f) => [f.code, f.severity]),
      [
        ['SM5006', 'warning'],
        ['SM5006', 'warning'],
      ],
    );
    assert.match(rep.findings[1]!.message, /no result line/);
  });

  it('a pod that did not run is one SM5007 naming its namespace; the other pods are still compared', () => {
    const outs = recorded(plan, faithful);
    outs[2] = { namespace: outs[2]!.namespace, pod: outs[2]!.pod, notRun: 'pods "sm-probe-c1": forbidden (403)' };
    const rep = compareLive(plan, outs);
    assert.equal(rep.findings.length, 1);
    assert.equal(rep.findings[0]!.code, 'SM5007');
    assert.match(rep.findings[0]!.message, /^team-alpha-2: \d+ request\(s\) from the probe pod not made: pods "sm-probe-c1": forbidden/);
    assert.ok(rep.rows.filter((r) => r.live === 'not-run').every((r) => r.from === 'team-alpha-2' && r.sidecar));
    assert.ok(rep.rows.filter((r) => r.from !== 'team-alpha-2').every((r) => r.agrees));
  });
});
