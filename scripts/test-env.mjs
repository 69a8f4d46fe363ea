#!/usr/bin/env node
// Test environment: a real etcd + kube-apiserver (+ kube-controller-manager for namespace deletion and GC),
// built from Debian's own packages because no Docker and no downloads outside npm + Debian exist here.
//
//   node scripts/test-env.mjs install   apt packages, Kubernetes 1.20 source, build (cached, idempotent)
//   node scripts/test-env.mjs start     etcd + apiserver on free loopback ports, kubeconfig, CRDs; prints env
//   node scripts/test-env.mjs env       prints the env of the running instance (KUBECONFIG=…)
//   node scripts/test-env.mjs stop      stops what `start` started
//
// Plain Node ESM (no TypeScript): it runs before anything is built.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, generateKeyPairSync } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import yaml from 'js-yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_CRDS = process.env.SERVERLESS_MESH_SHARED_CRDS ?? resolve(ROOT, '..', 'shared', 'crds');
const K8S_VERSION = '1.20.2';
// Bump when the build recipe changes so cached binaries are rebuilt.
const RECIPE = 'r1';
export const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'serverless-mesh');
const BUILD = join(CACHE, `k8s-${K8S_VERSION}-${RECIPE}`);
export const BIN = join(BUILD, 'bin');
const RUN_DIR = process.env.SERVERLESS_MESH_TEST_ENV_DIR ?? join(CACHE, 'run');
const REFLECT2_DEB = '/usr/share/gocode/src/github.com/modern-go/reflect2';

const log = (msg) => process.stderr.write(`[test-env] ${msg}\n`);

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}${opts.cwd ? `   (in ${opts.cwd})` : ''}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

// ---------------------------------------------------------------------------------------------------
// install
// ---------------------------------------------------------------------------------------------------

function sudoPrefix() {
  if (process.getuid?.() === 0) return [];
  if (which('sudo')) return ['sudo', '-n'];
  throw new Error(
    'apt packages are missing and this is not root (and no sudo): install golang-go etcd-server rsync make dpkg-dev golang-github-modern-go-reflect2-dev',
  );
}

function aptSourcesHaveDebSrc() {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  return files.some((f) => {
    try {
      const t = readFileSync(f, 'utf8');
      return /^Types:.*\bdeb-src\b/m.test(t) || /^deb-src\s/m.test(t);
    } catch {
      return false;
    }
  });
}

function ensureApt() {
  const need = [];
  if (!which('go')) need.push('golang-go');
  if (!which('etcd')) need.push('etcd-server');
  if (!which('rsync')) need.push('rsync');
  if (!which('make')) need.push('make');
  if (!which('dpkg-source')) need.push('dpkg-dev');
  if (!existsSync(REFLECT2_DEB)) need.push('golang-github-modern-go-reflect2-dev');
  const debSrc = aptSourcesHaveDebSrc();
  if (need.length === 0 && debSrc) return;
  const sudo = sudoPrefix();
  const sh = (args) => run(sudo[0] ?? args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1));
  if (!debSrc) {
    // `apt-get source kubernetes` needs a deb-src entry: same mirrors as the binary entries.
    const src = '/etc/apt/sources.list.d/debian.sources';
    if (!existsSync(src)) throw new Error(`${src} not found: add a deb-src entry for Debian yourself`);
    const text = readFileSync(src, 'utf8').replace(/^Types:\s*deb\s*$/gm, 'Types: deb-src');
    const tmp = join(CACHE, 'serverless-mesh-deb-src.sources');
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(tmp, text);
    sh(['cp', tmp, '/etc/apt/sources.list.d/serverless-mesh-deb-src.sources']);
  }
  sh(['apt-get', 'update', '-q']);
  if (need.length) {
    sh(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...need]);
  }
}

function findDir(parent, pred) {
  return readdirSync(parent).find((n) => pred(n) && statSync(join(parent, n)).isDirectory());
}

function buildKubernetes() {
  const want = ['kube-apiserver', 'kube-controller-manager'];
  if (want.every((b) => existsSync(join(BIN, b)))) {
    log(`kube binaries cached in ${BIN}`);
    return;
  }
  const work = join(CACHE, `build-${K8S_VERSION}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // apt-get source = download + dpkg-source -x (applies Debian's patches, e.g. security fixes).
  run('apt-get', ['source', '-q', 'kubernetes'], { cwd: work });
  const tree = findDir(work, (n) => n.startsWith('kubernetes-'));
  if (!tree) throw new Error(`apt-get source produced no kubernetes-* directory in ${work}`);
  const src = join(work, tree);
  if (!existsSync(join(src, 'vendor'))) throw new Error(`${src} has no vendor/ directory`);
  // reflect2 1.0.1 (vendored) crashes under Go >= 1.18 as soon as CRs are served; 1.0.2 fixes it.
  const v = join(src, 'vendor/github.com/modern-go/reflect2');
  rmSync(v, { recursive: true, force: true });
  cpSync(REFLECT2_DEB, v, {
    recursive: true,
    dereference: true,
    filter: (s) => !s.endsWith('_test.go') && !s.endsWith('/go.mod') && !s.endsWith('/go.sum') && !/\/tests?$/.test(s),
  });
  mkdirSync(join(src, '.go/src/k8s.io'), { recursive: true });
  run('ln', ['-sfn', '../../..', join(src, '.go/src/k8s.io/kubernetes')]);
  const home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  const env = {
    ...process.env,
    GOPATH: join(src, '.go'),
    CGO_ENABLED: '0',
    HOME: home,
    GOCACHE: join(work, 'gocache'),
    KUBE_GIT_VERSION: `v${K8S_VERSION}`, // the unpacked tree is no git checkout
    KUBE_GIT_TREE_STATE: 'clean',
  };
  const t0 = Date.now();
  run('make', [`WHAT=${want.map((b) => `cmd/${b}`).join(' ')}`], { cwd: src, env });
  log(`build took ${Math.round((Date.now() - t0) / 1000)} s`);
  const tmpBin = `${BIN}.tmp`;
  rmSync(tmpBin, { recursive: true, force: true });
  mkdirSync(tmpBin, { recursive: true });
  for (const b of want) cpSync(join(src, '_output/bin', b), join(tmpBin, b));
  rmSync(BIN, { recursive: true, force: true });
  renameSync(tmpBin, BIN); // atomic: a half-finished build never looks cached
  rmSync(work, { recursive: true, force: true });
}

// kubectl (only for the apply benchmark): Debian's kubernetes-client, unpacked into the cache so it cannot
// clash with another kubectl already on the machine.
function ensureKubectl() {
  const dest = join(CACHE, 'kubectl-1.20');
  const bin = join(dest, 'usr/bin/kubectl');
  if (existsSync(bin)) return bin;
  const work = join(CACHE, 'kubectl-dl');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('apt-get', ['download', '-q', 'kubernetes-client'], { cwd: work });
  const deb = readdirSync(work).find((n) => n.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download kubernetes-client produced no .deb');
  rmSync(dest, { recursive: true, force: true });
  run('dpkg-deb', ['-x', join(work, deb), `${dest}.tmp`]);
  renameSync(`${dest}.tmp`, dest);
  rmSync(work, { recursive: true, force: true });
  return bin;
}

export function kubectlPath() {
  return join(CACHE, 'kubectl-1.20', 'usr/bin/kubectl');
}

export function install() {
  const t0 = Date.now();
  mkdirSync(CACHE, { recursive: true });
  ensureApt();
  buildKubernetes();
  ensureKubectl();
  log(`install done in ${Math.round((Date.now() - t0) / 1000)} s`);
}

// ---------------------------------------------------------------------------------------------------
// CRD downgrade for Kubernetes 1.20 (test apiserver only; offline checks use the original files)
// ---------------------------------------------------------------------------------------------------

function walkSchema(node, path, dropped) {
  if (Array.isArray(node)) {
    node.forEach((n, i) => walkSchema(n, `${path}[${i}]`, dropped));
    return;
  }
  if (!node || typeof node !== 'object') return;
  // A list-map key must be defaulted or required; when its "" default goes (below), require it instead.
  for (const key of node['x-kubernetes-list-map-keys'] ?? []) {
    const item = node.items;
    if (item?.properties?.[key]?.default === '' || item?.properties?.[key]?.default === null) {
      item.required = [...new Set([...(item.required ?? []), key])];
      dropped.add('list-map key default (made required)');
    }
  }
  if ('x-kubernetes-validations' in node) {
    delete node['x-kubernetes-validations'];
    dropped.add('x-kubernetes-validations (CEL, needs 1.25+)');
  }
  // 1.20 rejects `default: null` unless nullable; the feature it guards is server-side defaulting only.
  if ('default' in node && node.default === null) {
    delete node.default;
    dropped.add('default: null');
  }
  // 1.20 cannot round-trip `null` inside enum (Route's "tls must be absent" anyOf branch).
  if (Array.isArray(node.enum) && node.enum.includes(null)) {
    node.enum = node.enum.filter((v) => v !== null);
    if (node.enum.length === 0) delete node.enum;
    dropped.add('null in enum');
  }
  // 1.20 loses empty-string defaults in its internal conversion and then sees `null`.
  if ('default' in node && node.default === '') {
    delete node.default;
    dropped.add('default: ""');
  }
  for (const [k, v] of Object.entries(node)) {
    if (k === 'default' || k === 'example' || k === 'enum') continue;
    walkSchema(v, `${path}.${k}`, dropped);
  }
}

export function downgradeCrd(crd) {
  const dropped = new Set();
  const c = structuredClone(crd);
  if (c.status) {
    delete c.status;
    dropped.add('status (storedVersions)');
  }
  delete c.metadata?.creationTimestamp;
  for (const ver of c.spec?.versions ?? []) {
    if (ver.schema?.openAPIV3Schema) walkSchema(ver.schema.openAPIV3Schema, '', dropped);
    if (ver.selectableFields) {
      delete ver.selectableFields;
      dropped.add('selectableFields');
    }
  }
  return { crd: c, dropped: [...dropped] };
}

export function loadSharedCrds(dir = SHARED_CRDS) {
  if (!existsSync(dir)) throw new Error(`CRD directory ${dir} not found (../shared must sit beside the project)`);
  const out = [];
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.yaml')) {
        // js-yaml 4: five of these files are not strict YAML 1.2 but ship as-is (see shared/crds/README).
        for (const doc of yaml.loadAll(readFileSync(p, 'utf8'))) {
          if (doc && doc.kind === 'CustomResourceDefinition') out.push({ file: p, crd: doc });
        }
      }
    }
  };
  walk(dir);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// start / stop
// ---------------------------------------------------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function request(server, token, method, path, body, contentType = 'application/json') {
  const u = new URL(path, server);
  return new Promise((res, rej) => {
    const req = https.request(
      u,
      {
        method,
        rejectUnauthorized: false, // loopback self-signed serving cert; only used by the harness itself
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': contentType } : {}),
        },
        timeout: 10000,
      },
      (r) => {
        let data = '';
        r.setEncoding('utf8');
        r.on('data', (c) => (data += c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    if (body) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

function spawnDaemon(name, cmd, args, dir) {
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  writeFileSync(join(dir, `${name}.pid`), String(child.pid));
  writeFileSync(join(dir, `${name}.cmd.json`), JSON.stringify({ cmd, args }));
  return child;
}

/** Stops one component (tests use this to take the apiserver away mid-apply). */
export async function stopProcess(dir, name, signal = 'SIGTERM') {
  const pidFile = join(dir, `${name}.pid`);
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid > 0 && isAlive(pid)) {
    process.kill(pid, signal);
    const deadline = Date.now() + 10000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
}

/**
 * Starts the apiserver stopped by stopProcess again with its original arguments (plus `extraArgs`, which
 * override them: later flags win) and waits for /readyz.
 */
export async function restartApiserver(dir, extraArgs = []) {
  const saved = JSON.parse(readFileSync(join(dir, 'kube-apiserver.cmd.json'), 'utf8'));
  const original = saved.original ?? saved.args;
  const { cmd } = saved;
  const args = [...original, ...extraArgs];
  const env = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8'));
  const token = readFileSync(join(dir, 'tokens.csv'), 'utf8').split(',')[0];
  spawnDaemon('kube-apiserver', cmd, args, dir);
  writeFileSync(join(dir, 'kube-apiserver.cmd.json'), JSON.stringify({ cmd, args, original }));
  await waitFor(
    'kube-apiserver',
    async () => (await request(env.SERVERLESS_MESH_TEST_APISERVER, token, 'GET', '/readyz')).status === 200,
    90000,
    join(dir, 'kube-apiserver.log'),
  );
}

async function waitFor(what, fn, timeoutMs, logFile) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  let tail = '';
  if (logFile && existsSync(logFile)) tail = readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
  throw new Error(
    `${what} not ready after ${timeoutMs / 1000} s${last ? ` (${last.message})` : ''}${tail ? `\n--- ${logFile} ---\n${tail}` : ''}`,
  );
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function writeKubeconfig(path, server, caFile, user, token) {
  const kc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test-env', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'test-env', context: { cluster: 'test-env', user } }],
    'current-context': 'test-env',
  };
  writeFileSync(path, yaml.dump(kc), { mode: 0o600 });
}

export async function start(opts = {}) {
  const dir = opts.dir ?? RUN_DIR;
  try {
    return await startIn(dir, opts);
  } catch (e) {
    await stop({ dir, quiet: true }); // never leave half a cluster running
    throw e;
  }
}

async function startIn(dir, { crds = true, controllerManager = true } = {}) {
  for (const b of ['kube-apiserver', ...(controllerManager ? ['kube-controller-manager'] : [])]) {
    if (!existsSync(join(BIN, b))) throw new Error(`${join(BIN, b)} missing: run \`node scripts/test-env.mjs install\` first`);
  }
  if (!which('etcd')) throw new Error('etcd missing: run `node scripts/test-env.mjs install` first');
  await stop({ dir, quiet: true }); // leftovers of an earlier start in the same directory
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const t0 = Date.now();

  const [etcdClient, etcdPeer, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  spawnDaemon(
    'etcd',
    'etcd',
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync', // throwaway data: durability costs time and buys nothing here
      '--log-level',
      'warn',
    ],
    dir,
  );

  // Tokens: admin (system:masters) and a limited user with no RBAC grants, so tests can exercise 403.
  const adminToken = randomBytes(24).toString('hex');
  const limitedToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${adminToken},admin,admin,"system:masters"\n${limitedToken},limited,limited,"serverless-mesh:limited"\n`,
    { mode: 0o600 },
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir, { recursive: true, mode: 0o700 });

  await waitFor(
    'etcd',
    async () => {
      const r = await fetch(`http://127.0.0.1:${etcdClient}/health`).catch(() => null);
      return r?.ok;
    },
    30000,
    join(dir, 'etcd.log'),
  );

  spawnDaemon(
    'kube-apiserver',
    join(BIN, 'kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--insecure-port=0',
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--advertise-address=127.0.0.1',
      '--max-requests-inflight=800',
      '--max-mutating-requests-inflight=400',
      '--v=1',
    ],
    dir,
  );

  const server = `https://127.0.0.1:${apiPort}`;
  await waitFor(
    'kube-apiserver',
    async () => {
      const r = await request(server, adminToken, 'GET', '/readyz');
      return r.status === 200;
    },
    90000,
    join(dir, 'kube-apiserver.log'),
  );

  const caFile = join(certDir, 'apiserver.crt'); // self-signed serving cert doubles as its own CA
  const kubeconfig = join(dir, 'kubeconfig');
  const limitedKubeconfig = join(dir, 'kubeconfig-limited');
  writeKubeconfig(kubeconfig, server, caFile, 'admin', adminToken);
  writeKubeconfig(limitedKubeconfig, server, caFile, 'limited', limitedToken);

  if (controllerManager) {
    // Namespace deletion and ownerReference GC are controller work; prune/delete tests need them.
    spawnDaemon(
      'kube-controller-manager',
      join(BIN, 'kube-controller-manager'),
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--controllers=namespace,garbagecollector',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--port=0',
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        '--v=1',
      ],
      dir,
    );
  }

  if (crds) await installCrds(server, adminToken);

  const env = {
    KUBECONFIG: kubeconfig,
    SERVERLESS_MESH_TEST_KUBECONFIG_LIMITED: limitedKubeconfig,
    SERVERLESS_MESH_TEST_APISERVER: server,
    SERVERLESS_MESH_TEST_ENV_DIR: dir,
  };
  writeFileSync(join(dir, 'env.json'), JSON.stringify(env, null, 2));
  log(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${server} (logs in ${dir})`);
  return env;
}

async function installCrds(server, token) {
  const all = loadSharedCrds();
  // One CRD per name. The product variants in sub-folders (Maistra 2.5's Istio APIs, OpenShift Serverless
  // 1.37's Knative operator) win: they are what an OSSM 2 + Serverless cluster serves, which is what the
  // renderer targets. SERVERLESS_MESH_TEST_CRDS=upstream picks the top-level (upstream) files instead.
  const preferSub = process.env.SERVERLESS_MESH_TEST_CRDS !== 'upstream';
  const byName = new Map();
  for (const { file, crd } of all) {
    const prev = byName.get(crd.metadata.name);
    const sub = file.slice(SHARED_CRDS.length + 1).split('/').length > 2;
    if (!prev || (prev.sub !== sub && sub === preferSub)) byName.set(crd.metadata.name, { file, crd, sub });
  }
  const summary = new Map();
  await Promise.all(
    [...byName.values()].map(async ({ file, crd }) => {
      const { crd: c, dropped } = downgradeCrd(crd);
      for (const d of dropped) summary.set(d, [...(summary.get(d) ?? []), c.metadata.name]);
      const r = await request(
        server,
        token,
        'PATCH',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.metadata.name}?fieldManager=test-env&force=true`,
        JSON.stringify(c),
        'application/apply-patch+yaml',
      );
      if (r.status >= 300) {
        let msg = r.body;
        try {
          msg = JSON.parse(r.body).message;
        } catch {}
        throw new Error(`installing CRD ${c.metadata.name} from ${file}: ${r.status} ${msg.slice(0, 2000)}`);
      }
    }),
  );
  log(
    `CRDs downgraded for Kubernetes ${K8S_VERSION} (test apiserver only); dropped: ` +
      ([...summary].map(([d, names]) => `${d} (${names.sort().join(', ')})`).join('; ') || 'nothing'),
  );
  // Wait until every CRD is Established, otherwise the first CR requests 404.
  await waitFor(
    'CRDs established',
    async () => {
      const r = await request(server, token, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
      const items = JSON.parse(r.body).items ?? [];
      const established = items.filter((i) => i.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
      return established.length >= byName.size;
    },
    60000,
  );
  log(`${byName.size} CRDs installed`);
}

export async function stop({ dir = RUN_DIR, quiet = false } = {}) {
  // Reverse order: controller-manager, apiserver, then etcd.
  for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) await stopProcess(dir, name);
  rmSync(join(dir, 'env.json'), { force: true });
  if (!quiet) log(`stopped (${dir})`);
}

function printEnv(env) {
  for (const [k, v] of Object.entries(env)) process.stdout.write(`${k}=${v}\n`);
}

// ---------------------------------------------------------------------------------------------------

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const cmd = process.argv[2];
  try {
    if (cmd === 'install') install();
    else if (cmd === 'start') printEnv(await start());
    else if (cmd === 'stop') await stop();
    else if (cmd === 'env') {
      const f = join(RUN_DIR, 'env.json');
      if (!existsSync(f)) throw new Error('not running: `node scripts/test-env.mjs start`');
      printEnv(JSON.parse(readFileSync(f, 'utf8')));
    } else {
      process.stderr.write('usage: node scripts/test-env.mjs install|start|stop|env\n');
      process.exit(2);
    }
  } catch (e) {
    log(`error: ${e.message}`);
    process.exit(1);
  }
}
