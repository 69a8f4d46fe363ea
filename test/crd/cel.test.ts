/**
 * CEL `x-kubernetes-validations` rules of the real CRDs in ../shared/crds, evaluated offline
 * (the test kube-apiserver 1.20 drops them).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { CrdSchemas } from '../../src/crd/schema-validation.ts';
import { buildRuleTree, compileRule, evaluateRules, fieldPathToPointer, type CelBudget } from '../../src/crd/cel-rules.ts';
import { escapeProperty, type KubeSchema } from '../../src/crd/cel-values.ts';
import { parseRequestUri } from '../../src/crd/cel-library.ts';
import { sharedFile } from '../helpers/shared.ts';

const CRDS = sharedFile('crds');

function crdFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? crdFiles(p) : name.endsWith('.yaml') ? [p] : [];
    });
}

/**
 * Rules that do not compile here, with the reason. Empty: all 325 rules of the shared CRDs compile.
 * A rule that stops compiling (or a new CRD with an unsupported function) fails the test until
 * it is supported or listed here.
 */
const UNSUPPORTED: Array<{ file: string; version: string; pointer: string; rule: string; reason: string }> = [];

describe('every CEL rule of the shared CRDs compiles', () => {
  it('enumerates, compiles and counts all rules', () => {
    const failures: Array<{ file: string; version: string; pointer: string; rule: string; error: string }> = [];
    let total = 0;
    let transition = 0;
    const perFile = new Map<string, number>();
    for (const file of crdFiles(CRDS)) {
      const schemas = CrdSchemas.fromFiles([file]);
      for (const v of schemas.allVersions()) {
        for (const { pointer, rule } of schemas.celRules(`${v.group}/${v.version}`, v.kind)) {
          total++;
          if (rule.usesOldSelf) transition++;
          const name = relative(CRDS, file);
          perFile.set(name, (perFile.get(name) ?? 0) + 1);
          if (rule.error) failures.push({ file: name, version: v.version, pointer, rule: rule.source.rule, error: rule.error });
        }
      }
    }
    assert.deepEqual(
      failures.map(({ error: _error, ...f }) => f),
      UNSUPPORTED.map(({ reason: _reason, ...u }) => u),
      failures.map((f) => `${f.file} ${f.version} ${f.pointer}: ${f.rule}: ${f.error}`).join('\n'),
    );
    // The counts pin the enumeration: a walk that misses items/additionalProperties finds fewer.
    assert.equal(total, 325);
    assert.equal(transition, 3); // `self == oldSelf` on IstioCNI/Istio/IstioRevision spec.namespace
    assert.equal(perFile.size, 12);
    assert.equal(perFile.get('networking.istio.io/networking.istio.io_destinationrules.yaml'), 117);
  });

  it('the static checks reject what cel-go would not compile', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: {
        a: { type: 'string' },
        namespace: { type: 'string' },
        list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } },
      },
    };
    const error = (rule: string) => compileRule({ rule }, schema, false, new Map()).error;
    assert.equal(error('self.b == "x"'), "undefined field 'b'");
    assert.equal(error('has(self.b)'), "undefined field 'b'");
    assert.equal(error('self.namespace == ""'), "undefined field 'namespace'"); // reserved word: escaped
    assert.equal(error('self.__namespace__ == ""'), undefined);
    assert.equal(error('self.list.all(x, x.m > 0)'), "undefined field 'm'");
    assert.equal(error('self.list.all(x, x.n > 0)'), undefined);
    assert.equal(error('quantity(self.a).isInteger()'), "undeclared reference to 'quantity'");
    assert.equal(error('y == 1'), "undeclared reference to 'y'");
    assert.match(error('self.a ==') ?? '', /expecting/);
    assert.equal(error('type(self.a) == string'), undefined);
  });
});

/** What an OSSM 3.x (sail-operator) cluster serves. */
const ossm3 = CrdSchemas.fromDirs([
  sharedFile('crds', 'sailoperator.io'),
  sharedFile('crds', 'networking.istio.io'),
  sharedFile('crds', 'security.istio.io'),
]);
const meta = { name: 'x', namespace: 'default' };
const check = (obj: object) => ossm3.validate(obj as { apiVersion: string; kind: string });

describe('real rules: a valid object passes, an invalid one yields the rule message at its node', () => {
  it('AuthorizationPolicy: selector and targetRef are exclusive; no cross-namespace targetRef', () => {
    const ap = (spec: object) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: meta, spec });
    const selector = { matchLabels: { app: 'a' } };
    const targetRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' };
    assert.deepEqual(check(ap({ selector, action: 'ALLOW', rules: [{}] })), []);
    assert.deepEqual(check(ap({ targetRef })), []);
    assert.deepEqual(check(ap({ selector, targetRef })), [{ pointer: '/spec', message: 'only one of targetRefs or selector can be set' }]);
    assert.deepEqual(check(ap({ targetRef: { ...targetRef, namespace: 'other' } })), [
      { pointer: '/spec/targetRef/namespace', message: 'cross namespace referencing is not currently supported' },
    ]);
    assert.deepEqual(check(ap({ rules: [{ from: [{ source: { serviceAccounts: ['ns/sa'], namespaces: ['ns'] } }] }] })), [
      { pointer: '/spec/rules/0/from/0/source', message: 'Cannot set serviceAccounts with namespaces or principals' },
    ]);
  });

  it('PeerAuthentication: portLevelMtls needs a selector; ports 1-65535 (map keys)', () => {
    const pa = (spec: object) => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: meta, spec });
    const selector = { matchLabels: { app: 'a' } };
    assert.deepEqual(check(pa({ mtls: { mode: 'STRICT' } })), []);
    assert.deepEqual(check(pa({ selector, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })), []);
    assert.deepEqual(check(pa({ portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })), [
      { pointer: '/spec', message: 'portLevelMtls requires selector' },
    ]);
    // An empty matchLabels counts as no selector.
    assert.deepEqual(check(pa({ selector: { matchLabels: {} }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' } } })), [
      { pointer: '/spec', message: 'portLevelMtls requires selector' },
    ]);
    assert.deepEqual(check(pa({ selector, portLevelMtls: { '0': { mode: 'PERMISSIVE' } } })), [
      { pointer: '/spec/portLevelMtls', message: 'port must be between 1-65535' },
    ]);
    // `int('http')` is an error; the apiserver reports evaluation errors as Invalid with the rule.
    const [violation] = check(pa({ selector, portLevelMtls: { http: { mode: 'PERMISSIVE' } } }))!;
    assert.equal(violation?.pointer, '/spec/portLevelMtls');
    assert.match(violation?.message ?? '', / evaluating rule: port must be between 1-65535$/);
  });

  it('PeerAuthentication: label selector rules apply per map key and per value', () => {
    const pa = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: meta,
      spec: { selector: { matchLabels: { 'a*': 'b', c: 'd*' } } },
    };
    assert.deepEqual(check(pa), [
      { pointer: '/spec/selector/matchLabels', message: 'wildcard not allowed in label key match' },
      { pointer: '/spec/selector/matchLabels/c', message: 'wildcard not allowed in label value match' },
    ]);
  });

  it('Gateway: credentialName and credentialNames are exclusive', () => {
    const gw = (tls: object) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: meta,
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls }],
      },
    });
    assert.deepEqual(check(gw({ mode: 'SIMPLE', credentialName: 'cert' })), []);
    assert.deepEqual(check(gw({ mode: 'SIMPLE', credentialName: 'cert', credentialNames: ['rsa', 'ecdsa'] })), [
      { pointer: '/spec/servers/0/tls', message: 'only one of credentialName or credentialNames can be set' },
    ]);
  });

  it('DestinationRule: durations at least 1ms; a malformed one is an evaluation error', () => {
    const dr = (connectTimeout: string) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta,
      spec: { host: 'a', trafficPolicy: { connectionPool: { tcp: { connectTimeout } } } },
    });
    const pointer = '/spec/trafficPolicy/connectionPool/tcp/connectTimeout';
    assert.deepEqual(check(dr('10s')), []);
    assert.deepEqual(check(dr('0.5ms')), [{ pointer, message: 'must be a valid duration greater than 1ms' }]);
    const [violation] = check(dr('soon'))!;
    assert.equal(violation?.pointer, pointer);
    assert.match(violation?.message ?? '', / evaluating rule: must be a valid duration greater than 1ms$/);
  });

  it('ServiceEntry: resolution, endpoints, hosts and ports rules', () => {
    const se = (spec: object) => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta, spec });
    const ports = [{ number: 443, name: 'https', protocol: 'TLS' }];
    assert.deepEqual(check(se({ hosts: ['api.example.com'], ports, resolution: 'DNS', location: 'MESH_EXTERNAL' })), []);
    // resolution defaults to NONE: no endpoints then.
    assert.deepEqual(check(se({ hosts: ['api.example.com'], ports, endpoints: [{ address: '1.2.3.4' }] })), [
      { pointer: '/spec', message: 'NONE mode cannot set endpoints' },
    ]);
    assert.deepEqual(check(se({ hosts: ['*'], ports })), [{ pointer: '/spec/hosts/0', message: 'hostname cannot be wildcard' }]);
    assert.deepEqual(check(se({ hosts: ['a.example.com'], ports: [...ports, { ...ports[0], name: 'other' }] })), [
      { pointer: '/spec/ports', message: 'port number cannot be duplicated' },
    ]);
    assert.deepEqual(check(se({ hosts: ['a.example.com'], addresses: ['10.0.0.0/8'], resolution: 'DNS', ports })), [
      { pointer: '/spec', message: 'CIDR addresses are allowed only for NONE/STATIC resolution types' },
    ]);
    assert.deepEqual(
      check(se({ hosts: ['a.example.com'], resolution: 'STATIC', ports, endpoints: [{ address: 'unix://sock', ports: { https: 443 } }] })),
      [
        { pointer: '/spec/endpoints/0', message: 'UDS may not include ports' },
        { pointer: '/spec/endpoints/0/address', message: 'UDS must be an absolute path or abstract socket' },
      ],
    );
  });

  it('Istio: istioNamespace must match spec.namespace (defaulted to istio-system); the immutability rule is skipped on create', () => {
    const istio = (spec: object) => ({ apiVersion: 'sailoperator.io/v1', kind: 'Istio', metadata: { name: 'default' }, spec });
    assert.deepEqual(check(istio({ version: 'v1.30.3', values: { global: { istioNamespace: 'istio-system' } } })), []);
    assert.deepEqual(check(istio({ version: 'v1.30.3', namespace: 'mesh', values: { global: { istioNamespace: 'istio-system' } } })), [
      { pointer: '/spec', message: 'spec.values.global.istioNamespace must match spec.namespace' },
    ]);
    const report = ossm3.validateWithReport(istio({ namespace: 'mesh', updateStrategy: { type: 'RevisionBased' } }))!;
    assert.deepEqual(report.violations, []);
    assert.deepEqual(report.cel, { passed: 1, failed: 0, errors: 0, skippedTransition: 1, overBudget: 0 });
  });

  it('Istio: meshConfig one-of rules apply inside lists', () => {
    const obj = {
      apiVersion: 'sailoperator.io/v1',
      kind: 'Istio',
      metadata: { name: 'default' },
      spec: {
        values: {
          meshConfig: {
            extensionProviders: [{ name: 'a', envoyExtAuthzHttp: { service: 's', port: 80 }, zipkin: { service: 'z', port: 9411 } }],
          },
        },
      },
    };
    assert.deepEqual(check(obj), [
      {
        pointer: '/spec/values/meshConfig/extensionProviders/0',
        message:
          'At most one of [envoyExtAuthzHttp envoyExtAuthzGrpc zipkin lightstep datadog stackdriver opencensus skywalking opentelemetry prometheus envoyFileAccessLog envoyHttpAls envoyTcpAls envoyOtelAls sds] should be set',
      },
    ]);
  });

  it('IstioCNI: the name must be default (a rule on the resource root)', () => {
    const cni = (name: string) => ({
      apiVersion: 'sailoperator.io/v1',
      kind: 'IstioCNI',
      metadata: { name },
      spec: { namespace: 'istio-cni' },
    });
    assert.deepEqual(check(cni('default')), []);
    assert.deepEqual(check(cni('cni')), [{ pointer: '/', message: "metadata.name must be 'default'" }]);
  });

  it('IstioRevision: an absent field is an evaluation error, reported like the apiserver', () => {
    const rev = {
      apiVersion: 'sailoperator.io/v1',
      kind: 'IstioRevision',
      metadata: { name: 'r1' },
      spec: { version: 'v1.30.3', namespace: 'istio-system', values: { global: { istioNamespace: 'istio-system' } } },
    };
    assert.deepEqual(check(rev), [
      {
        pointer: '/',
        message:
          "no such key: revision evaluating rule: spec.values.revision must match metadata.name or be empty when the name is 'default'",
      },
    ]);
    assert.deepEqual(check({ ...rev, spec: { ...rev.spec, values: { ...rev.spec.values, revision: 'r1' } } }), []);
  });

  it('RequestAuthentication: url(self).getScheme()', () => {
    const ra = (jwksUri: string) => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: meta,
      spec: { jwtRules: [{ issuer: 'i', jwksUri }] },
    });
    assert.deepEqual(check(ra('https://idp.example.com/keys')), []);
    assert.deepEqual(check(ra('ftp://idp.example.com/keys')), [
      { pointer: '/spec/jwtRules/0/jwksUri', message: 'url must have scheme http:// or https://' },
    ]);
  });

  it('a blocking schema error (enum, type, required …) stops CEL evaluation, as in the apiserver', () => {
    const ap = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: meta,
      spec: { action: 'PERMIT', selector: { matchLabels: {} }, targetRef: { kind: 'Gateway', name: 'gw' } },
    };
    const violations = check(ap)!;
    assert.equal(
      violations.at(-1)?.message,
      'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    );
    assert.ok(!violations.some((v) => v.message.includes('targetRefs')));
  });
});

describe('rule semantics', () => {
  const run = (schema: KubeSchema, value: unknown, budget?: CelBudget) =>
    evaluateRules(buildRuleTree(schema, false, new Map())!, value, budget);
  const rules = (...xs: Array<{ rule: string; message?: string; messageExpression?: string; fieldPath?: string }>) => xs;

  it('message, messageExpression and the default "failed rule:" message; fieldPath moves the pointer', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: { a: { type: 'object', properties: { 'b.c': { type: 'integer' } } } },
      'x-kubernetes-validations': rules(
        { rule: 'self.a.b__dot__c > 1' },
        { rule: 'false', message: ' plain ' },
        { rule: 'false', message: 'fallback', messageExpression: "'value ' + string(self.a.b__dot__c)" },
        { rule: 'false', message: 'fallback', messageExpression: "''" },
        { rule: 'false', message: 'moved', fieldPath: ".a['b.c']" },
      ),
    };
    assert.deepEqual(run(schema, { a: { 'b.c': 1 } }).violations, [
      { pointer: '/', message: 'failed rule: self.a.b__dot__c > 1' },
      { pointer: '/', message: 'plain' },
      { pointer: '/', message: 'value 1' },
      { pointer: '/', message: 'fallback' },
      { pointer: '/a/b.c', message: 'moved' },
    ]);
  });

  it('rules run only on present, non-null values; has() sees absent fields', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: { x: { type: 'string', nullable: true, 'x-kubernetes-validations': rules({ rule: 'false', message: 'x' }) } },
      'x-kubernetes-validations': rules({ rule: '!has(self.x)', message: 'has x' }),
    };
    assert.deepEqual(run(schema, {}).violations, []);
    assert.deepEqual(run(schema, { x: null }).violations, [{ pointer: '/', message: 'has x' }]);
    assert.deepEqual(run(schema, { x: 'v' }).violations, [
      { pointer: '/', message: 'has x' },
      { pointer: '/x', message: 'x' },
    ]);
  });

  it('int-or-string keeps the JSON type; preserve-unknown objects show no fields; escaped names', () => {
    const schema: KubeSchema = {
      type: 'object',
      properties: {
        port: {
          'x-kubernetes-int-or-string': true,
          'x-kubernetes-validations': rules({ rule: "type(self) == int ? self > 0 : self.endsWith('%')", message: 'port' }),
        },
        blob: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          'x-kubernetes-validations': rules({ rule: 'size(self) == 0', message: 'blob' }),
        },
        'my-field': { type: 'string' },
      },
      'x-kubernetes-validations': rules({ rule: 'self.my__dash__field == "ok"', message: 'escaped' }),
    };
    assert.deepEqual(run(schema, { port: 8080, blob: { a: 1 }, 'my-field': 'ok' }).violations, []);
    assert.deepEqual(run(schema, { port: '50%', 'my-field': 'ok' }).violations, []);
    assert.deepEqual(run(schema, { port: '50', 'my-field': 'no' }).violations, [
      { pointer: '/', message: 'escaped' },
      { pointer: '/port', message: 'port' },
    ]);
    assert.equal(escapeProperty('namespace'), '__namespace__');
    assert.equal(escapeProperty('a__b.c/d-e'), 'a__underscores__b__dot__c__slash__d__dash__e');
    assert.equal(escapeProperty('1a'), undefined);
    assert.equal(escapeProperty('a b'), undefined);
  });

  it('string extensions and list macros the Kubernetes environment offers', () => {
    const schema: KubeSchema = {
      type: 'array',
      items: { type: 'string' },
      'x-kubernetes-validations': rules(
        { rule: "self.map(s, s.lowerAscii()).filter(s, s.startsWith('a')).size() == 1" },
        { rule: "self.join(',').split(',').size() == size(self)" },
        { rule: "self.exists_one(s, s.indexOf('-') > 0 && s.replace('-', '').matches('^[a-z]+$'))" },
        { rule: "self.all(s, s.substring(0, 1) != '_')" },
      ),
    };
    assert.deepEqual(run(schema, ['Ab', 'c-d']).violations, []);
    assert.equal(run(schema, ['ab', 'AC', '_x']).stats.failed, 3);
  });

  it('the Kubernetes URL library', () => {
    const schema: KubeSchema = {
      type: 'string',
      'x-kubernetes-validations': rules(
        { rule: 'isURL(self)', message: 'not a URL' },
        {
          rule: "!isURL(self) || (url(self).getHostname() == 'h.example' && url(self).getPort() == '8443' && url(self).getHost() == 'h.example:8443')",
          message: 'host',
        },
        { rule: "!isURL(self) || url(self).getQuery()['a'] == ['1', '2 3']", message: 'query' },
        { rule: "!isURL(self) || url(self).getEscapedPath() == '/p%20q'", message: 'path' },
      ),
    };
    assert.deepEqual(run(schema, 'HTTPS://h.example:8443/p%20q?a=1&a=2+3').violations, []);
    assert.deepEqual(run(schema, 'not a url').violations, [{ pointer: '/', message: 'not a URL' }]);
    assert.equal(parseRequestUri('HTTPS://h/').scheme, 'https');
    assert.equal(parseRequestUri('/only/path').host, '');
    assert.throws(() => parseRequestUri('http://h:port/'), /invalid port/);
    assert.throws(() => parseRequestUri('relative/path'), /invalid URI for request/);
  });

  it('budget: a rule whose nested comprehensions over a large list would cost too much is not run', () => {
    const schema: KubeSchema = {
      type: 'array',
      items: { type: 'integer' },
      'x-kubernetes-validations': rules(
        { rule: 'self.all(a, self.exists_one(b, a == b))', message: 'unique' },
        { rule: 'size(self) > 0', message: 'empty' },
      ),
    };
    const big = Array.from({ length: 2000 }, (_, i) => i);
    const report = run(schema, big, { perCallLimit: 1_000_000, timeBudgetMs: 2000 });
    assert.deepEqual(report.stats, { passed: 1, failed: 0, errors: 0, skippedTransition: 0, overBudget: 1 });
    assert.match(report.violations[0]?.message ?? '', /^rule not evaluated: estimated cost 4000000 exceeds the per-call limit 1000000/);
    assert.deepEqual(run(schema, [1, 2, 2]).violations, [{ pointer: '/', message: 'unique' }]);
    const timedOut = run(schema, [1], { perCallLimit: 1_000_000, timeBudgetMs: -1 });
    assert.match(timedOut.violations[0]?.message ?? '', /CEL validation stopped/);
  });

  it('fieldPath must name a field of the schema', () => {
    const schema: KubeSchema = { type: 'object', properties: { a: { type: 'object', additionalProperties: { type: 'string' } } } };
    assert.equal(fieldPathToPointer(".a['k/1']", schema), '/a/k~11');
    assert.equal(fieldPathToPointer('.a.k', schema), '/a/k');
    assert.throws(() => fieldPathToPointer('.b', schema), /does not refer to a valid field/);
  });

  it('programs are planned once per rule text and owned by the caller', () => {
    const cache = new Map();
    const schema: KubeSchema = { type: 'string', 'x-kubernetes-validations': rules({ rule: 'self != ""' }) };
    const a = buildRuleTree(schema, false, cache)!;
    const b = buildRuleTree({ type: 'array', items: schema }, false, cache)!;
    assert.equal(cache.size, 1);
    assert.equal(a.rules[0]?.program, b.items?.rules[0]?.program);
  });
});
