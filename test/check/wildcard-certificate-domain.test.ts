// SM2011 in RuleTester style, with real certificates from the project's generator (SANs read back by the DER walk).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateWildcardCerts } from '../../src/certs/generate.ts';
import { RULES } from '../../src/check/registry.ts';
import { certificateDnsNames, nameCovers } from '../../src/check/x509-dns-names.ts';
import { ruleTester } from './rule-tester.ts';

const rule = RULES.find((r) => r.meta.name === 'wildcard-certificate-domain')!;
const apps = await generateWildcardCerts('apps.example.com');
const other = await generateWildcardCerts('apps.other.example.org');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const ingress = (domain: string) =>
  `apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata:\n  name: cluster\nspec:\n  domain: ${domain}\n`;
const gateway = `apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: knative-ingress-gateway
  namespace: knative-serving
spec:
  selector: {knative: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: wildcard-certs}
`;
const smcp = 'apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata:\n  name: basic\n  namespace: istio-system\nspec: {}\n';
const secret = (crt: string, ns = 'istio-system') =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: wildcard-certs\n  namespace: ${ns}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(crt)}\n`;
const doc = (...parts: string[]) => parts.join('---\n');

describe('SM2011 wildcard-certificate-domain', () => {
  ruleTester(rule, {
    valid: [
      { name: 'certificate for *.apps domain', yaml: doc(smcp, ingress('apps.example.com'), gateway, secret(apps.wildcardCertPem)) },
      { name: 'no Ingress config: the domain is unknown, nothing decided', yaml: doc(smcp, gateway, secret(other.wildcardCertPem)) },
      {
        name: 'Secret without data (listed as metadata only)',
        yaml: doc(
          smcp,
          ingress('apps.example.com'),
          gateway,
          'apiVersion: v1\nkind: Secret\nmetadata:\n  name: wildcard-certs\n  namespace: istio-system\n',
        ),
      },
      {
        name: 'a Secret of that name in another namespace is not the one served',
        yaml: doc(smcp, ingress('apps.example.com'), gateway, secret(other.wildcardCertPem, 'elsewhere')),
      },
    ],
    invalid: [
      {
        name: 'certificate for another domain',
        yaml: doc(smcp, ingress('apps.example.com'), gateway, secret(other.wildcardCertPem)),
        errors: [{ resource: 'Secret/istio-system/wildcard-certs', line: 34 }],
      },
      {
        name: 'the root CA instead of the wildcard certificate',
        yaml: doc(smcp, ingress('apps.example.com'), gateway, secret(apps.rootCertPem)),
        errors: [{ resource: 'Secret/istio-system/wildcard-certs' }],
      },
      {
        name: 'not a certificate at all',
        yaml: doc(smcp, ingress('apps.example.com'), gateway, secret('hello')),
        errors: [{ resource: 'Secret/istio-system/wildcard-certs' }],
      },
    ],
  });

  it('reads the SANs the generator wrote', () => {
    assert.deepEqual(certificateDnsNames(apps.wildcardCertPem), ['*.apps.example.com', 'apps.example.com']);
    assert.deepEqual(certificateDnsNames(apps.rootCertPem), []);
    assert.equal(certificateDnsNames('no pem here'), undefined);
  });

  it('a wildcard covers exactly one leftmost label (RFC 6125 §6.4.3)', () => {
    assert.equal(nameCovers('*.apps.example.com', 'hello-ns.apps.example.com'), true);
    assert.equal(nameCovers('*.apps.example.com', 'a.b.apps.example.com'), false);
    assert.equal(nameCovers('*.apps.example.com', 'apps.example.com'), false);
    assert.equal(nameCovers('hello.apps.example.com', 'HELLO.apps.example.com'), true);
  });
});
