// The render of every example, in every flavour it supports, passes check with no error-level finding.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { specModelOptions } from '../../src/authz/knative.ts';
import { buildContext } from '../../src/check/context.ts';
import { runRules } from '../../src/check/engine.ts';
import { RULES } from '../../src/check/registry.ts';
import { CrdSchemas } from '../../src/crd/schema-validation.ts';
import { profileFor } from '../../src/flavors/index.ts';
import { render } from '../../src/render/index.ts';
import type { MeshFlavor } from '../../src/api/types.ts';
import { example, ROOT, sharedFile, TEST_TLS } from '../helpers/shared.ts';

const ossm2Crds = CrdSchemas.fromDirs([
  sharedFile('crds', 'maistra.io'),
  sharedFile('crds', 'networking.istio.io', 'maistra-2.5'),
  sharedFile('crds', 'security.istio.io', 'maistra-2.5'),
  sharedFile('crds', 'operator.knative.dev', 'openshift-serverless-1.37'),
  sharedFile('crds', 'operator.serverless.openshift.io'),
  sharedFile('crds', 'serving.knative.dev'),
]);

describe('check passes on the render of every example and flavour', () => {
  for (const file of readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'))) {
    const name = file.replace(/\.yaml$/, '');
    for (const flavor of ['ossm2', 'ossm3', 'istio'] as MeshFlavor[]) {
      const mesh = example(name);
      if (mesh.spec.ingress === 'kourier' && !profileFor(flavor).kourier) continue;
      it(`${name} as ${flavor}`, () => {
        const spec = {
          ...mesh,
          spec: {
            ...mesh.spec,
            mesh: {
              ...mesh.spec.mesh,
              flavor,
              version: undefined,
              controlPlane: flavor === mesh.spec.mesh.flavor ? mesh.spec.mesh.controlPlane : profileFor(flavor).defaultControlPlane,
            },
          },
        };
        const objects = render(spec, { tls: TEST_TLS });
        const validate = flavor === 'ossm2' ? (o: Parameters<CrdSchemas['validate']>[0]) => ossm2Crds.validate(o) : undefined;
        // With the spec's model (specModelOptions), as `check -f` builds it: upstream Istio's excluded
        // ports come from docs/flavours.md, since the user's istiod is not among the objects.
        const findings = runRules(RULES, buildContext(objects, { validate, model: specModelOptions(spec) }));
        assert.deepEqual(
          findings
            .filter((f) => f.severity === 'error')
            .map((f) => `${f.code} ${f.resource.kind}/${f.resource.namespace ?? ''}/${f.resource.name}: ${f.message}`),
          [],
        );
      });
    }
  }
});
