#!/usr/bin/env node
// Generates test/authz/conformance/cases.json from Istio's own authorization integration tests.
//
// Usage:  node scripts/gen-authz-conformance.mjs <istio-checkout> <commit> --istio-io <istio.io-checkout> [out.json]
//
// <istio-checkout> is a directory holding (at least) these paths of istio/istio at <commit>:
//   tests/integration/security/{authz,normalization,jwt,pass_through_filter_chain}_test.go
//   tests/integration/security/testdata/{authz,requestauthn}/*.tmpl
//   tests/common/jwt/jwt_token.go
//   pkg/test/framework/components/echo/common/ports/ports.go
//   pkg/http/headers/wellknown.go
//   security/tools/jwt/samples/{demo,groups-scope}.jwt
// and <istio.io-checkout> holds content/en/docs/tasks/security/authorization/*/{snips,test}.sh of
// istio/istio.io (a sparse checkout will do). See test/authz/conformance/README.md for the commands.
//
// What is parsed from Go and what is hand-translated: the row tables (`cases := []struct{…}{…}`
// literals: ports, path, method, host, ip, jwt/token, headers, allow) and the normalization
// expectations are read from the Go source; the setup of each test (templates, parameters,
// sources, targets, the meaning of `allow`) is hand-translated in
// scripts/authz-conformance/setup.mjs. Templates are rendered here with a small Go-template
// subset. Every case records file, test, row index and the row's Go text.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apps as IO_APPS, gateways as IO_GATEWAYS, tasks as IO_TASKS } from './authz-conformance/istio-io.mjs';
import { tests as SETUP } from './authz-conformance/setup.mjs';

const argv = process.argv.slice(2);
const ioAt = argv.indexOf('--istio-io');
const istioIoRoot = ioAt >= 0 ? argv.splice(ioAt, 2)[1] : undefined;
const [root, commit, outArg] = argv;
if (!root || !commit || !istioIoRoot) {
  console.error('usage: gen-authz-conformance.mjs <istio-checkout> <commit> --istio-io <istio.io-checkout> [out.json]');
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
  /(\w+)\s*=\s*echo\.Port\{Name: "([^"]+)", Protocol: protocol\.(\w+), ServicePort: (\d+|echo\.NoServicePort), WorkloadPort: (\d+)/g,
))
  // echo.NoServicePort: a workload-only port no Service declares (servicePort null).
  ports[m[1]] = { name: m[2], protocol: m[3], servicePort: /^\d+$/.test(m[4]) ? Number(m[4]) : null, workloadPort: Number(m[5]) };
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
    Config: {
      Namespace: { Prefix: env[ns]?.prefix },
      Ports: {
        GetWorkloadOnlyPorts: Object.values(ports)
          .filter((p) => p.servicePort === null)
          .map((p) => ({ Name: p.name, WorkloadPort: p.workloadPort })),
      },
    },
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
  const dollar = /^\$(\w+)((?:\.\w+)*)$/.exec(t);
  if (dollar) return path(dollar[2], ctx[`$${dollar[1]}`]);
  throw new Error(`template term ${t}`);
}
function path(p, ctx) {
  let v = ctx;
  for (const f of p.split('.').filter(Boolean)) v = v?.[f];
  return v;
}
/** `{{- … -}}` trims whitespace as Go does; `{{ range $v := .List }}…{{ end }}` expands per item. */
function render(text, ctx) {
  const trimmed = text.replace(/\s*\{\{-/g, '{{').replace(/-\}\}\s*/g, '}}');
  const ranged = trimmed.replace(/\{\{\s*range \$(\w+) := (\.[\w.]+)\s*\}\}([\s\S]*?)\{\{\s*end\s*\}\}/g, (_, v, list, body) =>
    path(list, ctx)
      .map((item) => render(body, { ...ctx, [`$${v}`]: item }))
      .join(''),
  );
  return ranged.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, e) => String(evalTmpl(e, ctx)));
}

/** YAML documents of a template, rendered for one target. Namespace param: '' = as in file, else default for objects without one. */
function renderTemplate(name, params, to, from) {
  // A bare name is a testdata/authz template; a path (jwt_test.go passes them) is relative to SEC.
  const file = name.includes('/') ? `${SEC}/${name}` : `${SEC}/testdata/authz/${name}.yaml.tmpl`;
  const ctx = {
    To: { ...instance(`${to.ns}/${to.service}`) },
    SystemNamespace: { Name: env.system },
    JWTServer: { JwksURI: 'http://jwt-server.servers.svc.cluster.local:8000/jwks' },
    Provider: { Name: params.Provider },
  };
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Namespace') ctx.Namespace = v === '' ? undefined : { Name: nsName(v), Prefix: env[v]?.prefix ?? v };
    else if (k === 'From') ctx.From = instance(from);
    else if (k === 'Services') ctx.Services = v.map(instance);
    else if (k === 'GatewayIstioLabel') ctx.GatewayIstioLabel = v;
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

// ---- jwt_test.go: RequestAuthentication with the tokens of tests/common/jwt ---------------------
// The Go cases are closures (customizeCall) rather than row literals; the assignments they make
// (opts.HTTP.Path / Method / Headers, opts.Check) are read from each closure's text. Tokens are
// decoded here (claims recorded per case); the simulator decodes, never verifies, them.
const wellKnown = {};
for (const m of read('pkg/http/headers/wellknown.go').matchAll(/^\s*(\w+)\s*=\s*"([^"]*)"/gm)) wellKnown[m[1]] = m[2];
const claimsOf = (tok) => JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString('utf8'));
/** A Go string expression of the closures: literals, jwt.X, headers.X, fmt.Sprintf(…, to.ServiceName()), joined by +. */
function goStr(expr, to) {
  return splitPlus(expr.trim())
    .map((t) => {
      if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return goString(t);
      const tok = /^jwt\.(\w+)$/.exec(t);
      if (tok && tokens[tok[1]]) return tokens[tok[1]];
      const hk = /^headers\.(\w+)$/.exec(t);
      if (hk && hk[1] in wellKnown) return wellKnown[hk[1]];
      const spr = /^fmt\.Sprintf\(("[^"]*"),\s*to\.ServiceName\(\)\)$/.exec(t);
      if (spr) return goString(spr[1]).replace('%s', to.service);
      if (/^\w+$/.test(t) && t in goLocals) return goLocals[t];
      throw new Error(`cannot evaluate Go string ${t}`);
    })
    .join('');
}
function splitPlus(s) {
  const parts = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      while (s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === '+' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  parts.push(cur.trim());
  return parts;
}
/** headers.New().WithAuthz(t).With(k, v).WithHost(h).Build() → { headers, host } */
function goHeaders(expr, to) {
  const out = { headers: {}, host: undefined };
  let i = expr.indexOf('headers.New()') + 'headers.New()'.length;
  while (i < expr.length) {
    const m = /^\s*\.\s*(\w+)\(/.exec(expr.slice(i));
    if (!m) break;
    const open = i + m[0].length - 1;
    const close = matching(expr, open);
    const args = splitTop(expr.slice(open + 1, close)).map((a) => goStr(a, to));
    if (m[1] === 'WithAuthz') out.headers.Authorization = `Bearer ${args[0]}`;
    else if (m[1] === 'With') out.headers[args[0]] = args[1];
    else if (m[1] === 'WithHost') out.host = args[0];
    else if (m[1] !== 'Build') throw new Error(`headers builder .${m[1]}`);
    i = close + 1;
  }
  return out;
}
/** The request and expectation one customizeCall closure sets up. */
function jwtCall(fnText, to) {
  const stmts = (re) => [...fnText.matchAll(re)].map((m) => m[1]);
  const paths = stmts(/opts\.HTTP\.Path = ([^\n]+)/g);
  const methods = stmts(/opts\.HTTP\.Method = ("[^"]*")/g);
  // The last assignment wins (valid-nested-claim-token assigns Headers twice).
  const hdrExprs = [...fnText.matchAll(/opts\.HTTP\.Headers = (headers\.New\(\)[\s\S]*?\.\s*Build\(\))/g)].map((m) => m[1]);
  const checkAt = fnText.indexOf('opts.Check = ');
  const check = fnText.slice(checkAt, matching(fnText, fnText.indexOf('(', checkAt)) + 1);
  const h = hdrExprs.length ? goHeaders(hdrExprs.at(-1), to) : { headers: {} };
  let status;
  if (/check\.Status\(http\.StatusUnauthorized\)/.test(check)) status = 401;
  else if (/check\.Status\(http\.StatusForbidden\)/.test(check)) status = 403;
  else if (/check\.OK\(\)/.test(check)) status = 200;
  else throw new Error(`cannot read the expectation ${check}`);
  return {
    path: paths.length ? goStr(paths.at(-1), to) || '/' : '/',
    method: methods.length ? goString(methods.at(-1)) : 'GET',
    headers: h.headers,
    host: h.host,
    status,
    headerChecks: /check\.RequestHeaders?\(/.test(check) ? requestHeaderChecks(check, to) : undefined,
  };
}
/**
 * check.RequestHeaders(map[string]string{K: V, …}) / check.RequestHeader(K, V): the headers the
 * target must receive, lower-case names; "" = absent (echo/check: an empty expected value).
 */
function requestHeaderChecks(check, to) {
  const at = check.indexOf('check.RequestHeader');
  const open = check.indexOf('(', at);
  const args = check.slice(open + 1, matching(check, open));
  const pairs = check.startsWith('check.RequestHeaders(', at)
    ? splitTop(args.slice(args.indexOf('{') + 1, args.lastIndexOf('}'))).map((e) => {
        const m = /^(headers\.\w+|"[^"]*")\s*:\s*([\s\S]+)$/.exec(e.trim());
        return [m[1], m[2]];
      })
    : [splitTop(args)];
  return {
    text: check.slice(at).replace(/\s+/g, ' '),
    expect: Object.fromEntries(pairs.map(([k, v]) => [goStr(k, to).toLowerCase(), goStr(v, to)])),
  };
}
/** `{ name: "…", customizeCall: func… }` elements of a []testCase / []struct literal starting at `open`. */
function closureRows(src, open) {
  const close = matching(src, open);
  return splitTop(stripComments(src.slice(open + 1, close))).map((el) => ({
    name: goString(/name:\s*("(?:[^"\\]|\\.)*")/.exec(el)[1]),
    fn: el.slice(el.indexOf('customizeCall:')),
    line:
      src.slice(0, open).split('\n').length +
      src
        .slice(open, close)
        .slice(0, src.slice(open, close).indexOf(el.slice(0, 40)))
        .split('\n').length -
      1,
  }));
}
const jwtFile = `${SEC}/jwt_test.go`;
const jwtSrc = read(jwtFile);
const jwtFuncs = {};
for (const m of jwtSrc.matchAll(/^func (Test\w+)\(t \*testing\.T\) \{/gm)) {
  const open = m.index + m[0].length - 1;
  jwtFuncs[m[1]] = { start: open, body: jwtSrc.slice(open, matching(jwtSrc, open) + 1) };
}
// Go locals the closures use: `payload1 := strings.Split(jwt.TokenIssuer1, ".")[1]` etc.
const goLocals = {};
for (const m of jwtSrc.matchAll(/(\w+) := strings\.Split\(jwt\.(\w+), "\."\)\[1\]/g)) goLocals[m[1]] = tokens[m[2]].split('.')[1];
const NS1_ALL = ['ns1/a', 'ns1/b', 'ns1/c'];
/** One scenario: templates rendered for every target (BuildAll(nil, apps.Ns1.All)). */
function jwtScenario(id, test, templates, line) {
  const docs = new Map();
  for (const key of NS1_ALL) {
    const [ns, service] = key.split('/');
    for (const [tname, params] of templates) {
      const r = renderTemplate(tname, params, { ns, service }, undefined);
      for (const d of r.yaml.split(/^---\s*$/m)) {
        if (!/\bkind:/.test(d)) continue;
        const body = d.replace(/^\s*#.*$/gm, '').trim();
        if (!docs.has(`${r.defaultNs}\n${body}`))
          docs.set(`${r.defaultNs}\n${body}`, { file: r.file, defaultNamespace: r.defaultNs, yaml: body });
      }
    }
  }
  scenarios[id] = {
    source: { file: jwtFile, test, line },
    templates: templates.map((t) => t[0]),
    provider: null,
    objects: [...docs.values()],
  };
}
// Why a jwt_test.go expectation is beyond the model, by what the case depends on.
const JWT_LIVE = {
  'testdata/requestauthn/timeout.yaml.tmpl':
    'the JWKS fetch outcome: jwksUri answers after 500ms, the rule allows 10ms, so the key set never arrives and every token fails verification; the simulator decodes tokens without keys',
  'testdata/requestauthn/invalid-jwks.yaml.tmpl':
    'the JWKS fetch outcome: jwksUri does not exist, so no key verifies the token signature; the simulator decodes tokens without keys',
};
function pushJwtCase(base, hops, call, liveWhy) {
  const claims = Object.fromEntries(
    Object.entries({ ...call.headers, path: call.path })
      .flatMap(([k, v]) => [...String(v).matchAll(/[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g)].map((m) => [k, m[0]]))
      .map(([k, t]) => [k, claimsOf(t)]),
  );
  const c = { ...base, row: { path: call.path, method: call.method, headers: call.headers, host: call.host, tokenClaims: claims } };
  // A token whose keys never arrive: only the verdicts that do not need the signature are modelled.
  if (liveWhy && Object.keys(claims).length && call.status === 401 && claims.Authorization?.exp > 2e9)
    cases.push({ ...c, inexpressible: liveWhy });
  else
    cases.push({
      ...c,
      ...(call.headerChecks ? { provenance: { ...c.provenance, headerCheck: call.headerChecks.text } } : {}),
      request: hops,
      expect: call.status === 200 ? 'allow' : 'deny',
      status: call.status,
      ...(call.headerChecks ? { requestHeaders: call.headerChecks.expect } : {}),
    });
}
const sidecarHop = (from, toKey, call) => {
  const [h] = buildHops({}, from, { key: toKey }, 'http', { path: call.path, method: call.method, headers: call.headers });
  return [h];
};
const line = (at) => jwtSrc.slice(0, at).split('\n').length;
{
  // TestRequestAuthentication: t.NewSubTest(name).Run(newTest(policy, []testCase{…})) for every
  // target in ns1 from a (newTrafficTest: NotNaked, NotProxyless, NoSelfCalls), port http.
  const test = 'TestRequestAuthentication';
  const fn = jwtFuncs[test];
  for (const m of fn.body.matchAll(/t\.NewSubTest\("([^"]+)"\)\.Run\(newTest\("([^"]*)", \[\]testCase\{/g)) {
    const [, sub, policy] = m;
    const id = `${test}/${sub}`;
    jwtScenario(id, test, policy ? [[policy, {}]] : [], line(fn.start + m.index));
    const rows = closureRows(jwtSrc, fn.start + m.index + m[0].length - 1);
    rows.forEach((row, idx) => {
      for (const to of targetsOf({ to: ['ns1'] }, 'ns1/a')) {
        const call = jwtCall(row.fn, to);
        const base = {
          id: `${id}/${row.name}/ns1/a->${to.key}/http`,
          scenario: id,
          provenance: {
            file: jwtFile,
            test: `${test}/${sub}/${row.name}`,
            row: idx,
            line: row.line,
            go: row.fn.replace(/\s+/g, ' ').slice(0, 300),
          },
          from: 'ns1/a',
          to: to.key,
          port: 'http',
        };
        pushJwtCase(base, sidecarHop('ns1/a', to.key, call), call, JWT_LIVE[policy]);
      }
    });
  }
}
{
  // TestIngressRequestAuthentication: global-jwt (root namespace RequestAuthentication + gateway
  // AuthorizationPolicy) and ingress (Gateway + VirtualService per target) for apps.Ns1.All.
  const test = 'TestIngressRequestAuthentication';
  const fn = jwtFuncs[test];
  const id = test;
  jwtScenario(
    id,
    test,
    [
      ['testdata/requestauthn/global-jwt.yaml.tmpl', { Namespace: 'system', Services: NS1_ALL }],
      ['testdata/requestauthn/ingress.yaml.tmpl', { Namespace: 'ns1' }],
    ],
    line(fn.start),
  );
  for (const sub of ['in-mesh-authn', 'ingress-authn']) {
    const at = fn.body.indexOf(`t.NewSubTest("${sub}")`);
    const open = fn.body.indexOf('{', fn.body.indexOf('}{', fn.body.indexOf('cases := []struct', at)) + 1);
    closureRows(jwtSrc, fn.start + open).forEach((row, idx) => {
      const viaIngress = sub === 'ingress-authn';
      const froms = viaIngress ? ['ingress'] : ['ns1/a'];
      for (const from of froms)
        for (const to of targetsOf({ to: ['ns1'], ingress: viaIngress }, from)) {
          const call = jwtCall(row.fn, to);
          const base = {
            id: `${id}/${sub}/${row.name}/${from}->${to.key}/http`,
            scenario: id,
            provenance: {
              file: jwtFile,
              test: `${test}/${sub}/${row.name}`,
              row: idx,
              line: row.line,
              go: row.fn.replace(/\s+/g, ' ').slice(0, 300),
            },
            from,
            to: to.key,
            port: 'http',
          };
          const r = { path: call.path, method: call.method, headers: call.headers, host: call.host };
          const hops = viaIngress ? buildHops({ ingress: true }, from, to, 'http', r) : sidecarHop(from, to.key, call);
          pushJwtCase(base, hops, call);
        }
    });
  }
}
{
  // TestGatewayAPIRequestAuthentication: a Gateway API gateway per target (a, b) in ns1, the
  // deployment istiod creates for it labelled gateway.networking.k8s.io/gateway-name=<to>-gateway.
  const test = 'TestGatewayAPIRequestAuthentication';
  const fn = jwtFuncs[test];
  const id = test;
  const targets = ['ns1/a', 'ns1/b'];
  const docs = new Map();
  for (const key of targets) {
    const [ns, service] = key.split('/');
    for (const [tname, params] of [
      ['testdata/requestauthn/gateway-api.yaml.tmpl', { Namespace: 'ns1' }],
      ['testdata/requestauthn/gateway-jwt.yaml.tmpl', { Namespace: 'ns1', Services: targets }],
    ]) {
      const r = renderTemplate(tname, params, { ns, service }, undefined);
      for (const d of r.yaml.split(/^---\s*$/m)) {
        if (!/\bkind:/.test(d)) continue;
        const body = d.replace(/^\s*#.*$/gm, '').trim();
        docs.set(`${r.defaultNs}\n${body}`, { file: r.file, defaultNamespace: r.defaultNs, yaml: body });
      }
    }
  }
  scenarios[id] = {
    source: { file: jwtFile, test, line: line(fn.start) },
    templates: ['testdata/requestauthn/gateway-api.yaml.tmpl', 'testdata/requestauthn/gateway-jwt.yaml.tmpl'],
    provider: null,
    objects: [...docs.values()],
  };
  const at = fn.body.indexOf('t.NewSubTest("gateway-authn")');
  const open = fn.body.indexOf('{', fn.body.indexOf('}{', fn.body.indexOf('cases := []struct', at)) + 1);
  closureRows(jwtSrc, fn.start + open).forEach((row, idx) => {
    for (const key of targets) {
      const to = { ns: 'ns1', service: key.split('/')[1], key };
      const call = jwtCall(row.fn, to);
      const gwName = `${to.service}-gateway`;
      const gw = {
        namespace: env.ns1.name,
        labels: { 'gateway.networking.k8s.io/gateway-name': gwName, 'istio.io/gateway-name': gwName },
        port: 80,
        servicePort: 80,
        protocol: 'http',
        gatewayListener: 'PLAINTEXT',
        service: `${gwName}-istio.${env.ns1.name}.svc.cluster.local`,
      };
      const [, inner] = buildHops({ ingress: true }, 'ingress', to, 'http', call);
      const hops = [
        {
          source: { sidecar: false, ip: '10.0.0.99' },
          destination: gw,
          method: call.method,
          path: call.path,
          host: call.host,
          headers: call.headers,
        },
        { ...inner, source: { namespace: env.ns1.name, serviceAccount: `${gwName}-istio`, ip: '10.1.0.80' } },
      ];
      pushJwtCase(
        {
          id: `${id}/gateway-authn/${row.name}/gateway->${to.key}/http`,
          scenario: id,
          provenance: {
            file: jwtFile,
            test: `${test}/gateway-authn/${row.name}`,
            row: idx,
            line: row.line,
            go: row.fn.replace(/\s+/g, ' ').slice(0, 300),
          },
          from: 'gateway-api',
          to: to.key,
          port: 'http',
        },
        hops,
        call,
      );
    }
  });
}

// ---- pass_through_filter_chain_test.go: ports no Service declares ------------------------------
// The target's workload-only ports (ports.go ServicePort: echo.NoServicePort) reach the inbound
// passthrough filter chains; PeerAuthentication (incl. portLevelMtls) and AuthorizationPolicy
// still apply there. The client calls the pod IP at the workload port; the test's ServiceEntry
// (MESH_INTERNAL, the ports as TCP) + DestinationRule ISTIO_MUTUAL make sidecar clients send
// mTLS; the naked client sends plaintext.
{
  const ptFile = `${SEC}/pass_through_filter_chain_test.go`;
  const src = read(ptFile);
  const open = src.indexOf('{', src.indexOf('func TestPassThroughFilterChain'));
  const body = src.slice(open, matching(src, open) + 1);
  const bodyLine = src.slice(0, open).split('\n').length;
  // The ServiceEntry + DestinationRule every subtest adds (config.YAML(`…`) after the case's config).
  const seAt = body.indexOf('Source(config.YAML(`apiVersion: networking.istio.io/v1');
  const seYaml = body.slice(body.indexOf('`', seAt) + 1, body.indexOf('`', body.indexOf('`', seAt) + 1));
  const froms = [
    { key: 'ns1/a', naked: false },
    { key: 'ns1/naked', naked: true },
  ];
  const targets = ['ns1/b', 'ns1/c'];
  goRows(body).forEach((row, idx) => {
    const name = goString(row.fields.name);
    const id = `TestPassThroughFilterChain/${name}`;
    const docs = [];
    for (const key of targets) {
      const ns = key.split('/')[0];
      const ctx = { To: instance(key) };
      for (const text of [goString(row.fields.config), seYaml])
        for (const d of render(text, ctx).split(/^---\s*$/m)) {
          const yaml = d.trim();
          if (/\bkind:/.test(yaml) && !docs.some((o) => o.yaml === yaml)) docs.push({ file: ptFile, defaultNamespace: nsName(ns), yaml });
        }
    }
    scenarios[id] = { source: { file: ptFile, test: id, line: bodyLine + row.lineOffset }, templates: [], provider: null, objects: docs };
    const exp = /^\[\]expect\{([\s\S]*)\}$/.exec(row.fields.expected.trim())[1];
    splitTop(exp).forEach((e, k) => {
      const f = Object.fromEntries(splitTop(e.replace(/^\{|\}$/g, '').trim()).map((x) => /^(\w+):\s*([\s\S]*)$/.exec(x).slice(1)));
      const port = ports[f.port.replace('ports.', '')];
      for (const from of froms)
        for (const toKey of targets) {
          const t = endpoint(toKey);
          const fe = endpoint(from.key);
          // allow := mtlsSucceeds, or plaintextSucceeds from the naked pod; else check.ErrorOrStatus(403).
          const allow = goValue(from.naked ? f.plaintextSucceeds : f.mtlsSucceeds, {});
          cases.push({
            id: `${id}/${from.naked ? 'plaintext' : 'mtls'}/${port.name}/${from.key}->${toKey}`,
            scenario: id,
            provenance: {
              file: ptFile,
              test: `${id}/${from.naked ? 'plaintext' : 'mtls'}/${port.name}`,
              row: idx,
              expectation: k,
              go: e.replace(/\s+/g, ' '),
            },
            from: from.key,
            to: toKey,
            port: port.name,
            request: [
              {
                source: {
                  namespace: fe.n,
                  serviceAccount: fe.svc,
                  ip: from.naked ? '10.1.0.30' : ip(fe.ns, fe.svc),
                  ...(from.naked ? { sidecar: false } : {}),
                },
                destination: {
                  namespace: t.n,
                  labels: { app: t.svc },
                  port: port.workloadPort,
                  servicePort: port.workloadPort,
                  protocol: 'tcp',
                  ip: ip(t.ns, t.svc),
                  service: `fake.destination.${t.svc}`,
                },
              },
            ],
            expect: allow ? 'allow' : 'deny',
          });
        }
    });
  });
}

// ---- istio.io authorization task pages ----------------------------------------------------------
// Policies and stated outcomes are read from each page's snips.sh (test.sh for authz-http); the
// hops each command crosses are hand-translated in scripts/authz-conformance/istio-io.mjs.
{
  const TASKS_DIR = 'content/en/docs/tasks/security/authorization';
  const readIo = (p) => readFileSync(join(istioIoRoot, p), 'utf8');
  for (const t of IO_TASKS) {
    const file = `${TASKS_DIR}/${t.task}/${t.file}`;
    const text = readIo(file);
    const snips = Object.fromEntries([...text.matchAll(/^(snip_\w+)\(\) \{\n([\s\S]*?)\n\}$/gm)].map((m) => [m[1], m[2]]));
    const outs = Object.fromEntries(
      [...text.matchAll(/^! (?:IFS= )?read -r -d '' (snip_\w+) <<\\ENDSNIP\n([\s\S]*?)\nENDSNIP$/gm)].map((m) => [m[1], m[2]]),
    );
    const snip = (name) => {
      if (!(name in snips)) throw new Error(`${file}: no ${name} (update scripts/authz-conformance/istio-io.mjs)`);
      return snips[name];
    };
    const out = (name) => {
      if (!(name in outs)) throw new Error(`${file}: no ${name} (update scripts/authz-conformance/istio-io.mjs)`);
      return outs[name];
    };
    const vars = {};
    for (const [v, tok] of Object.entries(t.tokens ?? {})) {
      vars[v] = read(tok.path).trim();
      // The page prints the decoded payload: the token read from istio/istio must be that one.
      if (JSON.stringify(claimsOf(vars[v])) !== JSON.stringify(JSON.parse(out(`${tok.printedBy}_out`))))
        throw new Error(`${file}: ${tok.path} is not the token ${tok.printedBy} shows`);
    }
    if (t.clientIp) vars.CLIENT_IP = out(`${t.clientIp.printedBy}_out`).trim();
    const subst = (s) => s.replace(/\$(\w+)/g, (m, v) => vars[v] ?? m);
    const verifyText = t.verifyFile ? readIo(`${TASKS_DIR}/${t.task}/${t.verifyFile}`) : '';
    const commitOf = (f) => t.commit[f];
    for (const variant of t.variants) {
      const state = new Map();
      // An IstioOperator snippet of the page: the mesh settings the variant runs with.
      const meshOf = (block) => {
        if (!block) return {};
        const n = /numTrustedProxies:\s*(\d+)/.exec(out(block));
        if (!n) throw new Error(`${file}: no numTrustedProxies in ${block}`);
        return { numTrustedProxies: Number(n[1]) };
      };
      const idBase = `istio.io/${t.task}/${variant.name}`;
      let scenarioId;
      const snapshot = (step) => {
        scenarioId = `${idBase}/${step}`;
        scenarios[scenarioId] = {
          source: { file: `istio.io:${file}`, url: t.url, commit: commitOf(t.file), test: `${t.task}/${variant.name}` },
          templates: [],
          provider: null,
          ...(t.mesh || variant.meshFrom ? { mesh: { ...t.mesh, ...meshOf(variant.meshFrom) } } : {}),
          objects: [...state.values()],
        };
      };
      variant.steps.forEach((step, idx) => {
        if (step.apply) {
          const body = snip(step.apply);
          const ns = /kubectl apply -n (\S+)/.exec(body)?.[1] ?? 'default';
          const yamlText = /<<EOF\n([\s\S]*?)\nEOF/.exec(body)[1];
          for (const d of subst(yamlText).split(/^---\s*$/m)) {
            const yaml = d.trim();
            const kind = /^kind:\s*"?(\w+)"?/m.exec(yaml)[1];
            const name = /^\s+name:\s*"?([^"\n]+?)"?\s*$/m.exec(yaml)[1];
            const docNs = /^\s+namespace:\s*"?([^"\n]+?)"?\s*$/m.exec(yaml)?.[1] ?? ns;
            state.set(`${kind}/${docNs}/${name}`, { file: `istio.io:${file}#${step.apply}`, defaultNamespace: ns, yaml });
          }
          scenarioId = undefined;
          return;
        }
        if (!scenarioId) snapshot(idx);
        const provenance = (test, extra) => ({ file: `istio.io:${file}`, url: t.url, commit: commitOf(t.file), test, row: idx, ...extra });
        if (step.shadowCheck) {
          const cmd = snip(step.shadowCheck);
          if (!cmd.includes(step.cmd)) throw new Error(`${file}: ${step.shadowCheck} no longer runs ${step.cmd}`);
          const printed = out(`${step.shadowCheck}_out`);
          const lines = [...printed.matchAll(/rbac shadow (denied|allowed), matched policy ns\[(.+?)\]-policy\[(.+?)\]-rule\[(\d+)\]/g)];
          if (lines.length === 0 || new Set(lines.map((m) => m.slice(1).join())).size !== 1)
            throw new Error(`${file}: cannot read one shadow verdict from ${step.shadowCheck}`);
          const [, result, ns, name, rule] = lines[0];
          cases.push({
            id: `${idBase}/${step.shadowCheck}`,
            scenario: scenarioId,
            provenance: provenance(step.shadowCheck, { text: cmd.replace(/\s+/g, ' ').slice(0, 300), printed }),
            request: step.hops.map((h) => ioHop(h, vars)),
            expect: 'allow',
            // "shadow denied" is the DENY shadow rule set matching (allowed would be no match).
            shadow: { action: result === 'denied' ? 'DENY' : 'ALLOW', result, policy: `${ns}/${name}`, rule: Number(rule) },
          });
          return;
        }
        if (step.verify) {
          const vf = `${TASKS_DIR}/${t.task}/${t.verifyFile}`;
          if (!verifyText.split('\n').some((l) => l.trim() === step.verify)) throw new Error(`${vf}: no line ${step.verify}`);
          for (const c of step.cases)
            cases.push({
              id: `${idBase}/${step.verify.replace(/"/g, '')}/${c.text}`,
              scenario: scenarioId,
              provenance: {
                file: `istio.io:${vf}`,
                url: t.url,
                commit: commitOf(t.verifyFile),
                test: `${t.task}/${variant.name}`,
                row: idx,
                text: step.verify,
                expectedText: c.text,
              },
              request: c.hops.map((h) => ioHop(h, vars)),
              expect: c.expect,
              ...(c.status ? { status: c.status } : {}),
            });
          return;
        }
        const cmd = snip(step.check);
        if (!cmd.includes(step.cmd)) throw new Error(`${file}: ${step.check} no longer runs ${step.cmd}`);
        const printed = out(`${step.check}_out`);
        const lines = printed.split('\n').filter((l) => l !== '...');
        let expect;
        let status;
        if (/connection succeeded/.test(printed)) expect = 'allow';
        else if (/connection rejected/.test(printed)) expect = 'deny';
        else if (lines.every((l) => /^\d{3}$/.test(l) && l === lines[0])) {
          status = Number(lines[0]);
          expect = status === 200 ? 'allow' : 'deny';
        } else throw new Error(`${file}: cannot read the outcome of ${step.check}: ${printed}`);
        cases.push({
          id: `${idBase}/${step.check}`,
          scenario: scenarioId,
          provenance: provenance(step.check, { text: cmd.replace(/\s+/g, ' ').slice(0, 300), printed }),
          request: step.hops.map((h) => ioHop(h, vars)),
          expect,
          ...(status ? { status } : {}),
        });
      });
    }
  }
}
/** One hop of an istio.io command (see istio-io.mjs) as an `authz --request` object. */
function ioHop(h, vars) {
  const dest = (name, port, podIp) => {
    const a = IO_APPS[name];
    return {
      namespace: a.namespace,
      labels: a.labels,
      port: podIp ? port : a.ports[port],
      ...(podIp ? {} : { servicePort: port, service: a.service }),
      protocol: a.protocol ?? 'http',
      ip: a.ip,
    };
  };
  const gwDest = (name) => {
    const g = IO_GATEWAYS[name];
    return {
      namespace: g.namespace,
      labels: g.labels,
      port: g.port,
      servicePort: g.servicePort,
      protocol: 'http',
      gatewayListener: 'PLAINTEXT',
      ip: g.ip,
      service: g.service,
    };
  };
  let source;
  if (h.fromClient) source = { sidecar: false, ip: h.viaLoadBalancer ?? vars.CLIENT_IP };
  else if (h.fromGateway) {
    const g = IO_GATEWAYS[h.fromGateway];
    source = { namespace: g.namespace, serviceAccount: g.serviceAccount, ip: g.ip };
  } else {
    const a = IO_APPS[h.from];
    source = { namespace: a.namespace, serviceAccount: a.serviceAccount, ip: a.ip };
  }
  const destination = h.toGateway ? gwDest(h.toGateway) : dest(h.to, h.port, h.podIp);
  const hop = { source, destination, ...(h.transport ? { transport: h.transport } : {}) };
  if (destination.protocol === 'http') {
    // An HTTP load balancer in front of the gateway appends the client IP to X-Forwarded-For.
    const headers = { ...(h.headers ?? {}), ...(h.viaLoadBalancer ? { 'X-Forwarded-For': vars.CLIENT_IP } : {}) };
    if (h.bearer) headers.Authorization = `Bearer ${h.bearer.replace(/\$(\w+)/g, (m, v) => vars[v] ?? m)}`;
    const host = h.toGateway
      ? IO_GATEWAYS[h.toGateway].service.replace(/\.svc\.cluster\.local$/, '')
      : `${h.to}.${IO_APPS[h.to].namespace}:${h.port}`;
    Object.assign(hop, { method: h.method ?? 'GET', path: h.path, host, headers });
  }
  return hop;
}

const doc = {
  generatedBy: 'scripts/gen-authz-conformance.mjs',
  istio: { repo: 'https://github.com/istio/istio', commit },
  istioIo: { repo: 'https://github.com/istio/istio.io', files: Object.fromEntries(IO_TASKS.map((t) => [t.task, t.commit])) },
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
