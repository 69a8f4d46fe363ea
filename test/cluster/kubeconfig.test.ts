// kubeconfig loading: static credentials read here must equal what client-node produced before (it is the
// reference for TLS and auth fields); kubectl's rules where the two differ; exec plugins via client-node.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { fromRequestOptions, inCluster, loadKubeConfig, type Credentials } from '../../src/cluster/kubeconfig.ts';
import { UserError } from '../../src/util/errors.ts';
import { TEST_TLS } from '../helpers/shared.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

let dir: string;
let savedEnv: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sm-kubeconfig-'));
  savedEnv = process.env.KUBECONFIG;
  delete process.env.KUBECONFIG;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedEnv;
});

/** Writes a kubeconfig (JSON is YAML) with one context "c" → cluster "k" → user "u" unless overridden. */
function kubeconfig(file: string, cluster: object, user: object, extra: Record<string, unknown> = {}): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'k', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      'current-context': 'c',
      ...extra,
    }),
  );
  return path;
}

async function clientNodeView(path: string): Promise<Credentials> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const o: import('node:https').RequestOptions = {};
  await kc.applyToHTTPSOptions(o);
  return fromRequestOptions(o);
}

const strip = (c: Credentials) => JSON.parse(JSON.stringify(c)) as unknown;

describe('kubeconfig: static credentials equal client-node', () => {
  const cases: { name: string; cluster: object; user: object; files?: Record<string, string> }[] = [
    {
      name: 'bearer token, CA file',
      cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority': 'ca.crt' },
      user: { token: 'abc' },
      files: { 'ca.crt': TEST_TLS.certPem },
    },
    {
      name: 'client certificate files (relative to the kubeconfig)',
      cluster: { server: 'https://api.example:6443/', 'certificate-authority-data': b64(TEST_TLS.certPem) },
      user: { 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' },
      files: { 'pki/client.crt': TEST_TLS.certPem, 'pki/client.key': TEST_TLS.keyPem },
    },
    {
      name: 'client certificate data',
      cluster: { server: 'https://api.example:6443' },
      user: { 'client-certificate-data': b64(TEST_TLS.certPem), 'client-key-data': b64(TEST_TLS.keyPem) },
    },
    {
      name: 'basic auth, insecure',
      cluster: { server: 'https://1.2.3.4', 'insecure-skip-tls-verify': true },
      user: { username: 'admin', password: 's3cret' },
    },
    { name: 'tls-server-name', cluster: { server: 'https://1.2.3.4', 'tls-server-name': 'kubernetes.default' }, user: { token: 't' } },
    { name: 'anonymous', cluster: { server: 'https://1.2.3.4' }, user: {} },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      for (const [f, text] of Object.entries(c.files ?? {})) {
        mkdirSync(join(dir, f, '..'), { recursive: true });
        writeFileSync(join(dir, f), text);
      }
      const path = kubeconfig('config', c.cluster, c.user);
      const access = loadKubeConfig({ kubeconfig: path });
      assert.equal(access.server, (c.cluster as { server: string }).server.replace(/\/$/, ''));
      assert.deepEqual(strip(await access.credentials()), strip(await clientNodeView(path)));
    });
  }
});

describe('kubeconfig: kubectl rules', () => {
  it('KUBECONFIG list: missing files skipped, first definition and first current-context win', async () => {
    const a = kubeconfig('a', { server: 'https://first' }, { token: 'first' });
    const b = kubeconfig(
      'b',
      { server: 'https://second' },
      { token: 'second' },
      {
        contexts: [
          { name: 'c', context: { cluster: 'k', user: 'u' } },
          { name: 'other', context: { cluster: 'k', user: 'u', namespace: 'ns1' } },
        ],
        'current-context': 'other',
      },
    );
    process.env.KUBECONFIG = [join(dir, 'missing'), a, b].join(':');
    const access = loadKubeConfig();
    assert.equal(access.context, 'c');
    assert.equal(access.server, 'https://first');
    assert.equal((await access.credentials()).headers.Authorization, 'Bearer first');
    const other = loadKubeConfig({ context: 'other' });
    assert.equal(other.namespace, 'ns1');
  });

  it('tokenFile is read relative to its kubeconfig, trimmed', async () => {
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const access = loadKubeConfig({ kubeconfig: kubeconfig('config', { server: 'https://x' }, { tokenFile: 'token' }) });
    assert.equal((await access.credentials()).headers.Authorization, 'Bearer from-file');
  });

  it('in-cluster: service account token, CA and namespace; IPv6 host bracketed; a rotated token is re-read after a minute', async () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'first-token\n');
    writeFileSync(join(sa, 'ca.crt'), TEST_TLS.certPem);
    writeFileSync(join(sa, 'namespace'), 'serverless-mesh-system');
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const access = inCluster(undefined, sa, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' });
      assert.equal(access.server, 'https://[fd00::1]:443');
      assert.equal(access.namespace, 'serverless-mesh-system');
      const c = await access.credentials();
      assert.equal(c.headers.Authorization, 'Bearer first-token');
      assert.equal(c.ca?.toString(), TEST_TLS.certPem);
      writeFileSync(join(sa, 'token'), 'rotated-token\n');
      mock.timers.tick(30_000);
      assert.equal((await access.credentials()).headers.Authorization, 'Bearer first-token');
      mock.timers.tick(31_000);
      assert.equal((await access.credentials()).headers.Authorization, 'Bearer rotated-token');
    } finally {
      mock.timers.reset();
    }
    assert.throws(() => inCluster('prod', sa, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), /^InputError: --context prod: no kubeconfig found/);
    assert.equal(inCluster(undefined, sa, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }).server, 'https://10.0.0.1:443');
  });

  it('impersonation: as and as-groups become Impersonate-* headers', async () => {
    const access = loadKubeConfig({
      kubeconfig: kubeconfig('config', { server: 'https://x' }, { token: 't', as: 'jane', 'as-groups': ['devs', 'ops'] }),
    });
    const h = (await access.credentials()).headers;
    assert.equal(h['Impersonate-User'], 'jane');
    assert.deepEqual(h['Impersonate-Group'], ['devs', 'ops']);
  });

  it('an exec plugin user is run through client-node', async () => {
    const plugin = join(dir, 'plugin.mjs');
    writeFileSync(
      plugin,
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'exec-' + process.env.PLUGIN_ARG } }));`,
    );
    const user = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: process.execPath,
        args: [plugin],
        env: [{ name: 'PLUGIN_ARG', value: 'ok' }],
      },
    };
    const access = loadKubeConfig({
      kubeconfig: kubeconfig('config', { server: 'https://x', 'certificate-authority-data': b64(TEST_TLS.certPem) }, user),
    });
    const c = await access.credentials();
    assert.equal(c.headers.Authorization, 'Bearer exec-ok');
    assert.equal(c.ca?.toString(), TEST_TLS.certPem);
  });
});

describe('kubeconfig: errors are one clear line', () => {
  const cases: { name: string; setup: () => Parameters<typeof loadKubeConfig>[0]; message: RegExp }[] = [
    { name: '--kubeconfig missing', setup: () => ({ kubeconfig: join(dir, 'nope') }), message: /^--kubeconfig .*nope: file not found$/ },
    {
      name: 'KUBECONFIG names no existing file',
      setup: () => {
        process.env.KUBECONFIG = join(dir, 'x') + ':' + join(dir, 'y');
        return {};
      },
      message: /^KUBECONFIG=.*: no such file$/,
    },
    {
      name: 'unknown --context',
      setup: () => ({ kubeconfig: kubeconfig('config', { server: 'https://x' }, {}), context: 'prod' }),
      message: /^--context prod: no such context \(have: c\)$/,
    },
    {
      name: 'no current-context',
      setup: () => ({ kubeconfig: kubeconfig('config', { server: 'https://x' }, {}, { 'current-context': '' }) }),
      message: /sets no current-context: pass --context \(have: c\)$/,
    },
    {
      name: 'context names an undefined cluster',
      setup: () => ({
        kubeconfig: kubeconfig(
          'config',
          { server: 'https://x' },
          {},
          { contexts: [{ name: 'c', context: { cluster: 'gone', user: 'u' } }] },
        ),
      }),
      message: /^kubeconfig context "c" names cluster "gone", which is not defined$/,
    },
    {
      name: 'cluster without server',
      setup: () => ({ kubeconfig: kubeconfig('config', {}, {}) }),
      message: /^kubeconfig cluster "k" has no server$/,
    },
    {
      name: 'malformed YAML',
      setup: () => {
        writeFileSync(join(dir, 'bad'), 'clusters: [\n  - name: x\n');
        return { kubeconfig: join(dir, 'bad') };
      },
      message: /^cannot read kubeconfig .*bad: /,
    },
    {
      name: 'unreadable CA file',
      setup: () => ({ kubeconfig: kubeconfig('config', { server: 'https://x', 'certificate-authority': 'missing-ca.crt' }, {}) }),
      message: /"k" certificate-authority .*missing-ca\.crt: ENOENT$/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await assert.rejects(
        async () => await loadKubeConfig(c.setup()).credentials(),
        (e: unknown) => {
          assert.ok(e instanceof UserError, String(e));
          assert.match(e.message, c.message);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
      );
    });
  }
});
