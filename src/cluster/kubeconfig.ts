// kubeconfig → where the cluster is and how to authenticate, with kubectl's loading rules.
//
// Static credentials (token, tokenFile, client certificates, basic auth, in-cluster service account) are
// read here; users with an `exec` plugin or an `auth-provider` are handed to @kubernetes/client-node,
// which implements those protocols. The split exists for start-up time: client-node's config module
// imports its whole generated API (2,556 model files), 0.5–1 s before the first request, which every
// apply, diff and delete would pay although most kubeconfigs (kubeadm, kind, `oc login`, service
// accounts) hold static credentials. Where client-node and kubectl differ, this follows kubectl: the
// first file in $KUBECONFIG that defines a name wins (client-node throws on duplicates), `tokenFile` is
// read (client-node reads a `token-file` key kubectl does not have) and `as`/`as-groups` impersonate.
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { InputError as UserError } from '../util/errors.ts';

export interface KubeconfigOptions {
  kubeconfig?: string;
  context?: string;
}

/** TLS settings for the https.Agent and headers for every request. */
export interface Credentials {
  headers: Record<string, string | string[]>;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

export interface ClusterAccess {
  /** API server URL without a trailing slash. */
  server: string;
  /** Context name, for messages. */
  context: string;
  namespace?: string;
  /** Current credentials. Token files and exec plugins rotate, so clients ask again now and then. */
  credentials(): Promise<Credentials>;
}

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}
interface RawUser {
  token?: string;
  tokenFile?: string;
  'token-file'?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  as?: string;
  'as-groups'?: string[];
  exec?: unknown;
  'auth-provider'?: unknown;
}
interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}
interface Named<T> {
  name: string;
  /** The file that defined the entry: relative paths in it are relative to that file's directory. */
  file: string;
  value: T;
}
interface Merged {
  clusters: Map<string, Named<RawCluster>>;
  users: Map<string, Named<RawUser>>;
  contexts: Map<string, Named<RawContext>>;
  currentContext?: string;
  files: string[];
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_REREAD_MS = 60_000; // as client-go: rotated projected tokens are picked up within a minute

/**
 * --kubeconfig, else $KUBECONFIG (a list; missing entries skipped, as kubectl does), else
 * ~/.kube/config, else the in-cluster service account. Nothing found is an error rather than
 * client-node's silent http://localhost:8080.
 */
export function loadKubeConfig(opts: KubeconfigOptions = {}): ClusterAccess {
  let files: string[];
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new UserError(`--kubeconfig ${opts.kubeconfig}: file not found`);
    files = [opts.kubeconfig];
  } else if (process.env.KUBECONFIG) {
    files = process.env.KUBECONFIG.split(delimiter).filter((p) => p && existsSync(p));
    if (!files.length) throw new UserError(`KUBECONFIG=${process.env.KUBECONFIG}: no such file`);
  } else {
    const home = join(homedir(), '.kube', 'config');
    if (existsSync(home)) files = [home];
    else if (existsSync(join(SA_DIR, 'token')) && process.env.KUBERNETES_SERVICE_HOST) return inCluster(opts.context);
    else throw new UserError('no kubeconfig: pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config');
  }
  return fromMerged(mergeFiles(files), opts.context);
}

function mergeFiles(files: string[]): Merged {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), files };
  for (const file of files) {
    let doc: Record<string, unknown>;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new UserError(`cannot read kubeconfig ${file}: ${firstLine(e)}`);
    }
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`cannot read kubeconfig ${file}: not a mapping`);
    m.currentContext ||= typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined;
    addEntries(m.clusters, doc.clusters, 'cluster', file);
    addEntries(m.users, doc.users, 'user', file);
    addEntries(m.contexts, doc.contexts, 'context', file);
  }
  return m;
}

function addEntries<T>(into: Map<string, Named<T>>, list: unknown, key: string, file: string): void {
  if (list == null) return;
  if (!Array.isArray(list)) throw new UserError(`cannot read kubeconfig ${file}: ${key}s: expected a list`);
  list.forEach((e: Record<string, unknown>, i) => {
    if (!e || typeof e.name !== 'string' || !e.name) throw new UserError(`cannot read kubeconfig ${file}: ${key}s[${i}].name is missing`);
    // kubectl: the first file to define a name wins.
    if (!into.has(e.name)) into.set(e.name, { name: e.name, file, value: (e[key] ?? {}) as T });
  });
}

function fromMerged(m: Merged, contextFlag?: string): ClusterAccess {
  const have = () => [...m.contexts.keys()].join(', ') || 'none';
  const contextName = contextFlag ?? m.currentContext;
  if (!contextName) throw new UserError(`kubeconfig ${m.files.join(delimiter)} sets no current-context: pass --context (have: ${have()})`);
  const ctx = m.contexts.get(contextName);
  if (!ctx) {
    throw new UserError(
      contextFlag
        ? `--context ${contextFlag}: no such context (have: ${have()})`
        : `kubeconfig current-context "${contextName}" is not defined (have: ${have()})`,
    );
  }
  const cluster = ctx.value.cluster ? m.clusters.get(ctx.value.cluster) : undefined;
  if (!cluster)
    throw new UserError(
      `kubeconfig context "${contextName}" names ${ctx.value.cluster ? `cluster "${ctx.value.cluster}", which is not defined` : 'no cluster'}`,
    );
  if (!cluster.value.server) throw new UserError(`kubeconfig cluster "${cluster.name}" has no server`);
  // kubectl treats a context without a user, or naming a missing one, as anonymous.
  const user = (ctx.value.user && m.users.get(ctx.value.user)) || { name: '', file: cluster.file, value: {} };
  const server = cluster.value.server.replace(/\/+$/, '');
  const base = { server, context: contextName, ...(ctx.value.namespace ? { namespace: ctx.value.namespace } : {}) };
  if (user.value.exec || user.value['auth-provider'])
    return { ...base, credentials: pluginCredentials(contextName, ctx.value, cluster, user) };
  return { ...base, credentials: staticCredentials(cluster, user) };
}

function staticCredentials(cluster: Named<RawCluster>, user: Named<RawUser>): () => Promise<Credentials> {
  const c = cluster.value;
  const u = user.value;
  const tls = {
    ca: material(cluster, 'certificate-authority', c['certificate-authority'], c['certificate-authority-data']),
    cert: material(user, 'client-certificate', u['client-certificate'], u['client-certificate-data']),
    key: material(user, 'client-key', u['client-key'], u['client-key-data']),
    ...(c['tls-server-name'] ? { servername: c['tls-server-name'] } : {}),
    rejectUnauthorized: c['insecure-skip-tls-verify'] !== true,
  };
  const headers: Record<string, string | string[]> = {};
  if (u.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ''}`).toString('base64')}`;
  if (u.as) headers['Impersonate-User'] = u.as;
  if (u['as-groups']?.length) headers['Impersonate-Group'] = u['as-groups'];
  const tokenFile = u.tokenFile ?? u['token-file'];
  const token = u.token
    ? () => u.token
    : tokenFile
      ? rereadEvery(resolvePath(user.file, tokenFile), `user "${user.name}" tokenFile`)
      : undefined;
  return () => {
    const t = token?.();
    return Promise.resolve({ ...tls, headers: t ? { ...headers, Authorization: `Bearer ${t}` } : headers });
  };
}

/**
 * The service account's own token and CA, as client-go's rest.InClusterConfig. `saDir` and `env` are
 * parameters so tests can point them at a fake mount.
 */
export function inCluster(contextFlag?: string, saDir = SA_DIR, env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  if (contextFlag) throw new UserError(`--context ${contextFlag}: no kubeconfig found, only the in-cluster service account`);
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) throw new UserError('in-cluster configuration: KUBERNETES_SERVICE_HOST is not set');
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const named = (value: object) => ({ name: 'in-cluster', file: join(saDir, 'token'), value });
  const nsFile = join(saDir, 'namespace');
  return {
    server,
    context: 'in-cluster',
    ...(existsSync(nsFile) ? { namespace: readFileSync(nsFile, 'utf8').trim() } : {}),
    credentials: staticCredentials(named({ server, 'certificate-authority': 'ca.crt' }), named({ tokenFile: 'token' })),
  };
}

/** exec and auth-provider users: client-node runs the plugin (loaded only for these kubeconfigs). */
function pluginCredentials(
  contextName: string,
  context: RawContext,
  cluster: Named<RawCluster>,
  user: Named<RawUser>,
): () => Promise<Credentials> {
  // Hand client-node just this context, with file paths made absolute against the file that named them.
  const abs = (n: Named<object>, keys: string[]) =>
    Object.fromEntries(
      Object.entries(n.value).map(([k, v]) => [k, keys.includes(k) && typeof v === 'string' ? resolvePath(n.file, v) : v]),
    );
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster.name, cluster: abs(cluster, ['certificate-authority']) }],
    users: [{ name: user.name, user: abs(user, ['client-certificate', 'client-key']) }],
    contexts: [{ name: contextName, context: { ...context, cluster: cluster.name, user: user.name } }],
    'current-context': contextName,
  };
  let kc: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  return async () => {
    kc ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const k = new KubeConfig();
      k.loadFromString(JSON.stringify(config));
      return k;
    });
    const o: import('node:https').RequestOptions = {};
    try {
      await (await kc).applyToHTTPSOptions(o);
    } catch (e) {
      throw new UserError(`kubeconfig user "${user.name}": ${firstLine(e)}`);
    }
    return fromRequestOptions(o, cluster.value['insecure-skip-tls-verify'] === true);
  };
}

/** client-node's https.RequestOptions (headers, basic auth, TLS) as Credentials. */
export function fromRequestOptions(o: import('node:https').RequestOptions, insecure = false): Credentials {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String) : String(v);
  if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
  return {
    headers,
    ca: o.ca as Buffer | undefined,
    cert: o.cert as Buffer | undefined,
    key: o.key as Buffer | undefined,
    ...(o.servername ? { servername: o.servername } : {}),
    rejectUnauthorized: o.rejectUnauthorized !== false && !insecure,
  };
}

function material(n: Named<object>, field: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) {
    const path = resolvePath(n.file, file);
    try {
      return readFileSync(path);
    } catch (e) {
      throw new UserError(`kubeconfig ${n.file}: "${n.name}" ${field} ${path}: ${(e as NodeJS.ErrnoException).code ?? firstLine(e)}`);
    }
  }
  return data ? Buffer.from(data, 'base64') : undefined;
}

function rereadEvery(path: string, what: string): () => string {
  let token = '';
  let at = -Infinity;
  return () => {
    if (Date.now() - at > TOKEN_REREAD_MS) {
      try {
        token = readFileSync(path, 'utf8').trim();
      } catch (e) {
        throw new UserError(`kubeconfig ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? firstLine(e)}`);
      }
      at = Date.now();
    }
    return token;
  };
}

const resolvePath = (file: string, p: string) => (isAbsolute(p) ? p : join(dirname(file), p));
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
