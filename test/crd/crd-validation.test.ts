/**
 * Every rendered custom resource validates against the real CRD schema in ../shared/crds
 * (unknown fields rejected), in the CRD variant the flavour's operator serves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from '../../src/render/index.ts';
import { CrdSchemas } from '../../src/crd/schema-validation.ts';
import { gvk, objectRef } from '../../src/util/kube.ts';
import { example, sharedFile, TEST_TLS } from '../helpers/shared.ts';

/** What an OSSM 2.x + OpenShift Serverless 1.37 cluster serves. */
const ossm2 = CrdSchemas.fromDirs([
  sharedFile('crds', 'maistra.io'),
  sharedFile('crds', 'networking.istio.io', 'maistra-2.5'),
  sharedFile('crds', 'security.istio.io', 'maistra-2.5'),
  sharedFile('crds', 'operator.knative.dev', 'openshift-serverless-1.37'),
  sharedFile('crds', 'operator.serverless.openshift.io'),
  sharedFile('crds', 'serving.knative.dev'),
]);
/** The upstream Knative operator CRDs are fully typed (the product's preserve unknown fields): check both. */
const upstreamKnative = CrdSchemas.fromDirs([sharedFile('crds', 'operator.knative.dev')]);

const CORE = new Set(['/v1/Namespace', '/v1/Service', '/v1/Secret', 'networking.k8s.io/v1/NetworkPolicy']);

describe('rendered custom resources validate against the real CRDs', () => {
  for (const name of ['ossm2-basic', 'ossm2-tenants', 'ossm2-kafka', 'kourier']) {
    it(name, () => {
      const objects = render(example(name), { tls: TEST_TLS });
      let checked = 0;
      for (const obj of objects) {
        if (CORE.has(gvk(obj))) continue;
        const violations = ossm2.validate(obj);
        assert.ok(violations, `${objectRef(obj)}: no CRD for ${gvk(obj)} in the OSSM 2.x set`);
        assert.deepEqual(violations, [], `${objectRef(obj)}`);
        const upstream = upstreamKnative.validate(obj);
        if (upstream) assert.deepEqual(upstream, [], `${objectRef(obj)} (upstream Knative operator CRD)`);
        checked++;
      }
      assert.ok(checked > 0);
    });
  }

  it('the validator catches what the apiserver would reject', () => {
    const [gw] = render(example('ossm2-basic'), { tls: TEST_TLS }).filter((o) => o.kind === 'Gateway');
    const bad = structuredClone(gw!) as any;
    bad.spec.servers[0].hots = ['*'];
    bad.spec.servers[0].tls.mode = 'STRICT';
    const messages = ossm2.validate(bad)!.map((v) => `${v.pointer}: ${v.message}`);
    assert.ok(messages.some((m) => m.includes('/spec/servers/0') && m.includes('"hots"')), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes('/spec/servers/0/tls/mode')), messages.join('\n'));
  });

  it('OSSM 2.x does not serve networking.istio.io/v1: the render must not use it', () => {
    const v = ossm2.validate({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway' });
    assert.deepEqual(v, [{ pointer: '/apiVersion', message: 'networking.istio.io/v1 Gateway is not served; served: v1alpha3, v1beta1' }]);
  });
});
