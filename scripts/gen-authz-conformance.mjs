#!/usr/bin/env node
// Generates test/authz/conformance/cases.json from Istio's own authorization integration tests.
//
// Usage:  node scripts/gen-authz-conformance.mjs <istio-checkout> <commit> [out.json]
//
// <istio-checkout> is a directory holding (at least) these paths of istio/istio at <commit>:
//   tests/integration/security/{authz_test.go,normalization_test.go,testdata/authz/*.tmpl}
//   tests/common/jwt/jwt_token.go
//   pkg/test/framework/components/echo/common/ports/ports.go
// e.g. from a bare mirror:
//   git --git-dir=<mirror> archive <commit> tests/integration/security tests/common/jwt \
//     pkg/test/framework/components/echo/common/ports | tar -x -C /tmp/istio
//   node scripts/gen-authz-conformance.mjs /tmp/istio <commit>
//
// What is parsed from Go and what is hand-translated: the row tables (`cases := []struct{…}{…}`
// literals: ports, path, method, host, ip, jwt/token, headers, allow) and the normalization
// expectations are read from the Go source; the setup of each test (templates, parameters,
// sources, targets, the meaning of `allow`) is hand-translated in
// scripts/authz-conformance/setup.mjs. Templates are rendered here with a small Go-template
// subset. Every case records file, test, row index and the row's Go text.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tests as SETUP } from './authz-conformance/setup.mjs';

const [root, commit, outArg] = process.argv.slice(2);
if (!root || !commit) {
  console.error('usage: gen-authz-conformance.mjs <istio-checkout> <commit> [out.json]');
  process.exit(2);
}
const out = outArg ?? new URL('../test/authz/conformance/cases.json', import.meta.url).pathname;
const SEC = 'tests/integration/security';
const read = (p) => readFileSync(join(root, p), 'utf8');

// ---- environment: namespaces, apps, ports, tokens --------------------------------------------
const env = {
  ns1: { name: 'echo1-1000', prefix: 'echo1' },
  ns2: { name: 'echo2-2000', prefix: 'echo2' },
  system: 'istio-system',
};
const nsName = (k) => (k === 'system' ? env.system : env[k].name);
const SERVICES = ['a', 'b', 'c'];
const ip = (ns, svc) => `10.${ns === 'ns1' ? 1 : 2}.0.${SERVICES.indexOf(svc) + 10}`;
const ports = {};
for (const m of read('pkg/test/framework/components/echo/common/ports/ports.go').matchAll(
  /(\w+)\s*=\s*echo\.Port\{Name: "([^"]+)", Protocol: protocol\.(\w+), ServicePort: (\d+), WorkloadPort: (\d+)/g,
))
  ports[m[1]] = { name: m[2], protocol: m[3], servicePort: Number(m[4]), workloadPort: Number(m[5]) };
const portByName = Object.fromEntries(Object.values(ports).map((p) => [p.name, p]));
const tokens = {};
for (const m of read('tests/common/jwt/jwt_token.go').matchAll(/^\s*(\w+)\s*=\s*"([A-Za-z0-9_\-.]+)"/gm)) tokens[m[1]] = m[2];

// ---- a tiny Go-template renderer (the subset the authz templates use) -------------------------
function instance(key) {
  // key: 'ns1/a' → echo instance params
  const [ns, svc] = key.split('/');
  const n = nsName(ns);
  return {
    ServiceName: svc,
    NamespaceName: n,
    NamespacedName: `${n}/${svc}`,
    SpiffeIdentity: `cluster.local/ns/${n}/sa/${svc}`,
    ClusterLocalFQDN: `${svc}.${n}.svc.cluster.local`,
    Config: { Namespace: { Prefix: env[ns]?.prefix } },
    MustWorkloads: { Addresses: [ip(ns, svc)] },
    PortForName: (name) => ({ WorkloadPort: portByName[name].workloadPort, ServicePort: portByName[name].servicePort }),
  };
}
function evalTmpl(expr, ctx) {
  const stages = expr.split('|').map((s) => s.trim());
  let v = term(stages[0], ctx);
  for (const st of stages.slice(1)) {
    const [fn, ...args] = st.split(/\s+/);
    if (fn === 'toJson') v = JSON.stringify(v);
    else if (fn === 'default') v = v === undefined || v === '' ? term(args.join(' '), ctx) : v;
    else throw new Error(`template function ${fn}`);
  }
  return v;
}
function term(t, ctx) {
  t = t.trim();
  if (/^"[^"]*"$/.test(t)) return t.slice(1, -1);
  const paren = /^\(\s*(\.[\w.]+)\s+[`"]([^`"]+)[`"]\s*\)((?:\.\w+)*)$/.exec(t);
  if (paren) {
    let v = path(paren[1], ctx)(paren[2]);
    for (const f of paren[3].split('.').filter(Boolean)) v = v[f];
    return v;
  }
  if (t.startsWith('.')) return path(t, ctx);
  throw new Error(`template term ${t}`);
}
function path(p, ctx) {
  let v = ctx;
  for (const f of p.split('.').filter(Boolean)) v = v?.[f];
  return v;
}
const render = (text, ctx) => text.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, e) => String(evalTmpl(e, ctx)));

/** YAML documents of a template, rendered for one target. Namespace param: '' = as in file, else default for objects without one. */
function renderTemplate(name, params, to, from) {
  const file = `${SEC}/testdata/authz/${name}.yaml.tmpl`;
  const ctx = {
    To: { ...instance(`${to.ns}/${to.service}`) },
    SystemNamespace: { Name: env.system },
    JWTServer: { JwksURI: 'http://jwt-server.servers.svc.cluster.local:8000/jwks' },
    Provider: { Name: params.Provider },
  };
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Namespace') ctx.Namespace = v === '' ? undefined : { Name: nsName(v), Prefix: env[v]?.prefix ?? v };
    else if (k === 'From') ctx.From = instance(from);
    else if (k !== 'Provider' && k !== 'WithNamespace') ctx[k] = instance(v);
  }
  // config.New(t).…BuildAll(nil, to): objects without metadata.namespace go to the Namespace
  // param (WithNamespace / param.Namespace) or else to the target's namespace.
  let defaultNs = nsName(to.ns);
  if (params.WithNamespace) defaultNs = nsName(params.WithNamespace);
  if (params.Namespace) defaultNs = nsName(params.Namespace);
  return { file, yaml: render(read(file), ctx), defaultNs };
}

// ---- Go row tables ------------------------------------------------------------------------------
function stripComments(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' && c === '"' ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j;
    } else if (c === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}
function matching(s, open) {
  const pairs = { '{': '}', '(': ')', '[': ']' };
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' && c === '"' ? 2 : 1;
      i = j;
      continue;
    }
    if (c in pairs) depth++;
    else if (c === '}' || c === ')' || c === ']') if (--depth === 0) return i;
  }
  throw new Error('unbalanced');
}
function splitTop(s) {
  const parts = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' && c === '"' ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if ('{(['.includes(c)) depth++;
    if ('})]'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}
/** Row literals of the first `cases := []struct{…}{…}` (or `[]testCase{…}`) in a Go function body. */
function goRows(body) {
  const at = body.indexOf('cases := []');
  if (at < 0) return undefined;
  let i = at + 'cases := []'.length;
  if (body.startsWith('struct', i)) i = matching(body, body.indexOf('{', i)) + 1;
  else i = body.indexOf('{', i) - 0;
  const open = body.indexOf('{', i);
  const close = matching(body, open);
  const inner = stripComments(body.slice(open + 1, close));
  const lineOf = (text) =>
    body.slice(0, open).split('\n').length +
    stripComments(body.slice(open + 1, close))
      .slice(0, inner.indexOf(text))
      .split('\n').length -
    1;
  return splitTop(inner).map((el) => {
    const fields = {};
    const txt = el.replace(/^\{|\}$/g, '');
    for (const f of splitTop(txt)) {
      const m = /^(\w+):\s*([\s\S]*)$/.exec(f);
      if (m) fields[m[1]] = m[2].trim();
      else fields._positional = [...(fields._positional ?? []), f];
    }
    return { text: el.replace(/\s+/g, ' '), fields, lineOffset: lineOf(el) };
  });
}
const goString = (s) => (s.startsWith('`') ? s.slice(1, -1) : JSON.parse(s));
/** A Go row-field expression → value, or throws (the row is then listed as inexpressible). */
function goValue(expr, vars) {
  expr = expr.trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(expr) || /^`[^`]*`$/.test(expr)) return goString(expr);
  if (expr === 'true' || expr === 'false') return expr === 'true';
  if (/^allowValue\((\w+)\)$/.test(expr)) return goValue(/^allowValue\((\w+)\)$/.exec(expr)[1], vars);
  if (/^!\w+$/.test(expr)) return !goValue(expr.slice(1), vars);
  if (/^\w+$/.test(expr) && expr in vars) return vars[expr];
  const portList = /^\[\]echo\.Port\{(.*)\}$/s.exec(expr);
  if (portList) return splitTop(portList[1]).map((p) => ports[p.replace('ports.', '')].name);
  const tok = /^jwt\.(\w+)$/.exec(expr);
  if (tok && tokens[tok[1]]) return tokens[tok[1]];
  const host = /^host\(("[^"]*")\)$/.exec(expr);
  if (host) return goString(host[1]).replace('%s', vars['to.Config().Service']);
  const spr = /^fmt\.Sprintf\(("[^"]*"),\s*(.*)\)$/s.exec(expr);
  if (spr) {
    const args = splitTop(spr[2]).map((a) => {
      if (!(a in vars)) throw new Error(`cannot evaluate ${a}`);
      return vars[a];
    });
    let k = 0;
    return goString(spr[1]).replace(/%s/g, () => args[k++]);
  }
  // authz_test.go TestAuthz_CustomServer: extAuthzHeaders(v) sets authz.XExtAuthz ("x-ext-authz")
  // and authz.XExtAuthzAdditionalHeaderOverride; allowHeaders() = extAuthzHeaders(authz.XExtAuthzAllow).
  const ext = /^extAuthzHeaders\((.*)\)$/.exec(expr);
  if (ext)
    return {
      'x-ext-authz': ext[1] === 'authz.XExtAuthzAllow' ? 'allow' : goValue(ext[1], vars),
      'x-ext-authz-additional-header-override': 'should-be-override',
    };
  if (expr === 'allowHeaders()') return goValue('extAuthzHeaders(authz.XExtAuthzAllow)', vars);
  if (expr === 'denyHeaders()') return goValue('extAuthzHeaders("deny")', vars);
  const hdr = /^headers\.New\(\)((?:\.With\("[^"]*",\s*"[^"]*"\))*)\.Build\(\)$/.exec(expr);
  if (hdr)
    return Object.fromEntries([...hdr[1].matchAll(/\.With\(("[^"]*"),\s*("[^"]*")\)/g)].map((m) => [goString(m[1]), goString(m[2])]));
  throw new Error(`cannot evaluate Go expression ${expr}`);
}

// ---- case assembly ---------------------------------------------------------------------------
const authzSrc = read(`${SEC}/authz_test.go`);
const funcs = {};
for (const m of authzSrc.matchAll(/^func (Test\w+)\(t \*testing\.T\) \{/gm)) {
  const open = m.index + m[0].length - 1;
  funcs[m[1]] = { body: authzSrc.slice(open, matching(authzSrc, open) + 1), line: authzSrc.slice(0, m.index).split('\n').length };
}

const scenarios = {};
const cases = [];
const targetsOf = (spec, from) => {
  const list = [];
  for (const ns of spec.to)
    for (const svc of SERVICES) {
      const key = `${ns}/${svc}`;
      if (svc === 'a' && !spec.toIncludesA && !spec.ingress) continue; // ToMatch(match.Not(fromMatch)): a is a source
      if (key === from) continue; // echotest.NoSelfCalls
      list.push({ ns, service: svc, key });
    }
  return list;
};

for (const [name, spec] of Object.entries(SETUP)) {
  const fn = funcs[name];
  if (!fn) throw new Error(`${name}: not in ${SEC}/authz_test.go at ${commit} (update setup.mjs)`);
  const providers = spec.providers ?? [undefined];
  for (const provider of providers) {
    const froms = spec.fromFor ? spec.fromFor(provider) : spec.from;
    // One scenario per test (and provider): the union of every template rendered for every target.
    const scenarioId = provider ? `${name}[${provider.name}]` : name;
    const docs = new Map();
    const allTargets = new Map();
    for (const f of froms) for (const t of targetsOf(spec, f)) allTargets.set(t.key, t);
    for (const t of allTargets.values()) {
      for (const tmpl of spec.templates) {
        const [tname, params] = Array.isArray(tmpl) ? tmpl : [tmpl, {}];
        const p = { ...params };
        if (p.Provider) p.Provider = provider.name;
        if (p.From) p.From = froms[0];
        const r = renderTemplate(tname, p, t, froms[0]);
        for (const doc of r.yaml.split(/^---\s*$/m)) {
          if (!/\bkind:/.test(doc)) continue;
          const body = doc.replace(/^\s*#.*$/gm, '').trim();
          const key = `${r.defaultNs}\n${body}`;
          if (!docs.has(key)) docs.set(key, { file: r.file, defaultNamespace: r.defaultNs, yaml: body });
        }
      }
    }
    // EgressGateway: a's VirtualService/DR are rendered per From namespace too (param From).
    scenarios[scenarioId] = {
      source: { file: `${SEC}/authz_test.go`, test: name, line: fn.line },
      templates: spec.templates.map((t) => (Array.isArray(t) ? t[0] : t)),
      provider: provider ?? null,
      objects: [...docs.values()],
    };
    const goTable = spec.rows ? spec.rows.map((r) => ({ text: r.line, fields: null, literal: r })) : goRows(fn.body);
    for (const from of froms) {
      for (const to of targetsOf(spec, from)) {
        const vars = {
          allow: spec.allow ? spec.allow(from, to) : true,
          'to.Config().Service': to.service,
          'allowed.Config().Service': 'a',
          'allowed.Config().Namespace.Name()': nsName('ns1'),
          ...(spec.vars ? spec.vars(from) : {}),
        };
        const rows = spec.rowsFor ? spec.rowsFor(to, env).map((r) => ({ text: r.line, literal: r })) : goTable;
        rows.forEach((row, idx) => {
          const base = {
            scenario: scenarioId,
            provenance: { file: `${SEC}/authz_test.go`, test: name, row: idx, go: row.text.slice(0, 300) },
            from,
            to: to.key,
          };
          let r;
          try {
            if (row.literal) r = { ...row.literal };
            else {
              r = {};
              for (const [k, v] of Object.entries(row.fields)) if (k !== '_positional' && k !== 'skipFn') r[k] = goValue(v, vars);
            }
            if (r.allow === 'allow') r.allow = vars.allow;
          } catch (e) {
            cases.push({ ...base, id: `${scenarioId}/${from}->${to.key}/row${idx}`, inexpressible: `generator: ${e.message}` });
            return;
          }
          if (r.skip) return; // the Go test `continue`s on skip
          const rowPorts = r.ports ?? spec.defaultPorts ?? ['http'];
          for (const port of spec.ingress || spec.egress ? ['http'] : rowPorts) {
            if (provider && !provider.tcp && port === 'tcp') continue; // Filter(provider.IsProtocolSupported)
            const id = `${scenarioId}/${from}->${to.key}/row${idx}/${port}`;
            cases.push({ ...base, id, port, row: r, request: buildHops(spec, from, to, port, r), expect: r.allow ? 'allow' : 'deny' });
          }
        });
      }
    }
  }
}

function endpoint(key) {
  const [ns, svc] = key.split('/');
  return { ns, svc, n: nsName(ns) };
}
/** The hops the echo call crosses: [client sidecar → target] in-mesh; [→ gateway, gateway → target] via ingress/egress. */
function buildHops(spec, from, to, portName, r) {
  const p = portByName[portName];
  const t = endpoint(to.key);
  const dest = {
    namespace: t.n,
    labels: { app: t.svc, ...(r.extraLabels ?? {}) },
    port: p.workloadPort,
    servicePort: p.servicePort,
    protocol: p.protocol === 'TCP' ? 'tcp' : 'http',
    ip: ip(t.ns, t.svc),
    service: `${t.svc}.${t.n}.svc.cluster.local`,
  };
  const headers = { ...(r.headers ?? {}) };
  const token = r.jwt || r.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const http = dest.protocol === 'http';
  const grpc = p.protocol === 'GRPC';
  const hop = (source, destination, extra = {}) => ({
    source,
    destination,
    ...(http
      ? {
          method: grpc ? 'POST' : (r.method ?? 'GET'),
          path: grpc ? '/proto.EchoTestService/Echo' : r.path || '/',
          host: extra.host ?? `${destination.service}:${destination.servicePort}`,
          headers,
        }
      : {}),
    ...extra,
  });
  if (spec.ingress) {
    // Ingress gateway (istio-system, labels istio=ingressgateway, app=istio-ingressgateway), HTTP
    // server port 80 → workload 8080; the test client is outside the mesh; XFF carries c.ip.
    const gw = {
      namespace: env.system,
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      port: 8080,
      servicePort: 80,
      protocol: 'http',
      gatewayListener: 'PLAINTEXT',
      service: `istio-ingressgateway.${env.system}.svc.cluster.local`,
    };
    const h = { ...headers, ...(r.ip ? { 'X-Forwarded-For': r.ip } : {}) };
    const host = r.host;
    return [
      { source: { sidecar: false, ip: '10.0.0.99' }, destination: gw, method: 'GET', path: r.path || '/', host, headers: h },
      {
        source: { namespace: env.system, serviceAccount: 'istio-ingressgateway-service-account', ip: '10.0.0.50' },
        destination: { ...dest, port: portByName.http.workloadPort, servicePort: portByName.http.servicePort, protocol: 'http' },
        method: 'GET',
        path: r.path || '/',
        host,
        headers: h,
      },
    ];
  }
  const f = endpoint(from);
  const source = { namespace: f.n, serviceAccount: f.svc, ip: ip(f.ns, f.svc) };
  if (spec.egress) {
    // www.company.com: mesh port 80 → egress gateway HTTP server 80 (workload 8080); the other
    // hosts: mesh port 80 → egress gateway 443 with DestinationRule ISTIO_MUTUAL (workload 8443).
    const company = r.host === 'www.company.com';
    const gw = {
      namespace: env.system,
      labels: { app: 'istio-egressgateway', istio: 'egressgateway' },
      port: company ? 8080 : 8443,
      servicePort: company ? 80 : 443,
      protocol: 'http',
      gatewayListener: company ? 'PLAINTEXT' : 'ISTIO_MUTUAL',
      service: `istio-egressgateway.${env.system}.svc.cluster.local`,
    };
    return [
      { source, destination: gw, method: 'GET', path: r.path || '/', host: r.host, headers },
      {
        source: { namespace: env.system, serviceAccount: 'istio-egressgateway-service-account' },
        destination: { ...dest, port: portByName.http.workloadPort, servicePort: portByName.http.servicePort, protocol: 'http' },
        method: 'GET',
        path: r.path || '/',
        host: r.host,
        headers,
      },
    ];
  }
  return [hop(source, dest)];
}

// ---- normalization_test.go: mesh pathNormalization → normalized path ----------------------------
const normSrc = read(`${SEC}/normalization_test.go`);
const normCases = [];
{
  const body = normSrc.slice(normSrc.indexOf('func TestNormalization'));
  const table = goRows(body);
  const MODES = { NONE: 'NONE', BASE: 'BASE', MERGE_SLASHES: 'MERGE_SLASHES', DECODE_AND_MERGE_SLASHES: 'DECODE_AND_MERGE_SLASHES' };
  // percentEncodedCases: generated by a loop in Go; translated (supportedPercentEncode + url.PathUnescape).
  const supported = (i) =>
    [0x2d, 0x2e, 0x2f, 0x5c, 0x5f, 0x7e].includes(i) || (i >= 0x30 && i <= 0x39) || (i >= 0x41 && i <= 0x5a) || (i >= 0x61 && i <= 0x7a);
  const percent = [];
  for (let i = 1; i <= 0xff; i++) {
    const input = `/admin%${i.toString(16).padStart(2, '0')}`;
    let output = input;
    if (supported(i)) output = `/admin${String.fromCharCode(i)}`.replace('\\', '/');
    percent.push([input, output]);
  }
  table.forEach((row, idx) => {
    const pos = row.fields._positional ?? [];
    const name = row.fields.name ? goString(row.fields.name) : goString(pos[0]);
    const modeExpr = row.fields.ntype ?? pos[1];
    const mode = MODES[/_(NONE|BASE|MERGE_SLASHES|DECODE_AND_MERGE_SLASHES)$/.exec(modeExpr)[1]];
    const expExpr = row.fields.expectations ?? pos[2];
    let pairs;
    if (expExpr === 'percentEncodedCases') pairs = percent;
    else {
      const inner = expExpr.slice(expExpr.indexOf('{') + 1, expExpr.lastIndexOf('}'));
      pairs = splitTop(inner).map((e) => splitTop(e.replace(/^\{|\}$/g, '')).map(goString));
    }
    pairs.forEach(([input, output], k) => {
      normCases.push({
        id: `TestNormalization/${name}/${k}`,
        provenance: { file: `${SEC}/normalization_test.go`, test: `TestNormalization/${name}`, row: idx, expectation: k },
        mode,
        path: input,
        expect: output,
      });
    });
  });
}

const doc = {
  generatedBy: 'scripts/gen-authz-conformance.mjs',
  istio: { repo: 'https://github.com/istio/istio', commit },
  environment: {
    namespaces: { ns1: env.ns1.name, ns2: env.ns2.name, system: env.system },
    ports: portByName,
    meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 1 } } },
  },
  scenarios,
  cases,
  normalization: normCases,
};
writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
console.error(
  `wrote ${out}: ${Object.keys(scenarios).length} scenarios, ${cases.length} authz cases, ${normCases.length} normalization cases`,
);
