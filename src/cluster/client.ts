import http from 'node:http';
import https from 'node:https';
import type { ClusterAccess, Credentials } from './kubeconfig.ts';

/** metav1.Status as returned in error bodies. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { type?: string; message?: string; field?: string }[] };
}

/** A non-2xx answer from the apiserver. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
    readonly method: string,
    readonly path: string,
  ) {
    super(status.message || `HTTP ${code}`);
    this.name = 'ApiError';
  }
}

/** The apiserver could not be reached (refused, reset, timed out) even after retries. */
export class UnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly detail: string,
  ) {
    super(`cluster ${server} unreachable: ${detail}`);
    this.name = 'UnreachableError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Per-attempt deadline; the apiserver answers long requests itself, so this only catches black holes. */
  timeoutMs?: number;
  /** Retries for 429/5xx/connection errors (default 5). */
  retries?: number;
  /** Return the body as text instead of parsing JSON (e.g. /metrics). */
  raw?: boolean;
  /** Accept header (default application/json), e.g. `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`. */
  accept?: string;
}

const THROTTLE_BUDGET_MS = 60_000;

const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);

export interface ClientOptions {
  /** Max concurrent connections (bounded parallelism happens above; this is the socket cap). */
  maxSockets?: number;
  /** Base backoff in ms (tests shorten it). */
  backoffMs?: number;
  retries?: number;
}

/**
 * Raw JSON client over node:https; kubeconfig.ts supplies the server and credentials.
 * client-node's typed and generic clients re-serialize bodies through generated models, which drops
 * fields of custom kinds whose Version+Kind matches a core model (Knative Service) and unknown fields
 * of built-ins (ts-ecosystem §3.2), so requests here carry our JSON verbatim.
 */
export class KubeClient {
  readonly server: string;
  private readonly base: URL;
  /** A server URL may carry a path prefix (e.g. behind a proxy): requests go below it. */
  private readonly basePath: string;
  private agent: https.Agent | http.Agent | undefined;
  private streamAgent: https.Agent | http.Agent | undefined;
  private tls: Credentials | undefined;
  private authHeaders: Record<string, string | string[]> = {};
  private authAt = 0;
  private readonly opts: Required<ClientOptions>;

  constructor(
    readonly access: ClusterAccess,
    opts: ClientOptions = {},
  ) {
    this.server = access.server;
    this.base = new URL(access.server);
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.opts = { maxSockets: opts.maxSockets ?? 32, backoffMs: opts.backoffMs ?? 250, retries: opts.retries ?? 5 };
  }

  private async prepare(): Promise<void> {
    // Re-read credentials now and then: exec plugins and token files rotate.
    if (this.agent && Date.now() - this.authAt < 60_000) return;
    const c = await this.access.credentials();
    this.authHeaders = c.headers;
    // A plugin may hand out a new client certificate: connections made with the old one are dropped.
    if (this.agent && !sameTls(this.tls!, c)) {
      this.agent.destroy();
      this.streamAgent?.destroy();
      this.agent = undefined;
      this.streamAgent = undefined;
    }
    if (!this.agent) {
      const agent = (maxSockets: number) =>
        this.server.startsWith('https:')
          ? new https.Agent({
              keepAlive: true,
              maxSockets,
              ca: c.ca,
              cert: c.cert,
              key: c.key,
              servername: c.servername,
              rejectUnauthorized: c.rejectUnauthorized,
            })
          : new http.Agent({ keepAlive: true, maxSockets });
      this.agent = agent(this.opts.maxSockets);
      // Watches hold a connection for minutes each (the controller watches ~25 kinds): on the requests'
      // capped pool they would leave a handful of sockets for everything else, or none (a hang).
      this.streamAgent = agent(Infinity);
      this.tls = c;
    }
    this.authAt = Date.now();
  }

  close(): void {
    this.agent?.destroy();
    this.streamAgent?.destroy();
  }

  async request<T = unknown>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    await this.prepare();
    // The server URL is parsed once; per request only path and query are built (thousands per apply).
    let query = '';
    for (const [k, v] of Object.entries(ro.query ?? {}))
      if (v !== undefined) query += `${query ? '&' : '?'}${k}=${encodeURIComponent(String(v))}`;
    const target = this.basePath + path + query;
    const body = ro.body === undefined ? undefined : typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
    const retries = ro.retries ?? this.opts.retries;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let res: { status: number; headers: http.IncomingHttpHeaders; text: string };
      try {
        res = await this.once(method, target, body, ro.contentType ?? 'application/json', ro.timeoutMs ?? 60_000, !!ro.raw, ro.accept);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if ((RETRY_CODES.has(code) || /socket hang up|timeout/i.test((e as Error).message)) && attempt < retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw new UnreachableError(this.server, `${(e as Error).message}${attempt ? ` (after ${attempt + 1} attempts)` : ''}`);
      }
      if (res.status >= 200 && res.status < 300) {
        if (ro.raw) return res.text as T;
        return (res.text ? JSON.parse(res.text) : {}) as T;
      }
      // 429 means "later", not "broken": retry for up to a minute (honouring Retry-After, jittered so a
      // throttled burst spreads out); 5xx only a few times.
      const throttled = res.status === 429 && Date.now() - started < THROTTLE_BUDGET_MS;
      if (throttled || (res.status >= 500 && attempt < retries && !isPermanent5xx(res.text))) {
        const ra = Number(res.headers['retry-after']);
        const base = Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 10_000) : this.backoff(Math.min(attempt, 4));
        await sleep(base * (1 + Math.random()));
        continue;
      }
      let status: Status;
      try {
        status = JSON.parse(res.text) as Status;
      } catch {
        status = { message: res.text.slice(0, 500) || `HTTP ${res.status}`, code: res.status };
      }
      throw new ApiError(res.status, status, method, this.basePath + path);
    }
  }

  /**
   * A streaming GET (watch): calls onLine for every newline-terminated JSON line. Resolves when the
   * server ends the stream (watch timeout) or `abort()` is called; rejects with ApiError on a non-2xx
   * answer (410 Gone: relist) or with the connection error.
   */
  async stream(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onLine: (value: unknown) => void,
  ): Promise<{ done: Promise<void>; abort: () => void }> {
    await this.prepare();
    let q = '';
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q += `${q ? '&' : '?'}${k}=${encodeURIComponent(String(v))}`;
    const mod = this.base.protocol === 'https:' ? https : http;
    let req: http.ClientRequest | undefined;
    let aborted = false;
    const done = new Promise<void>((resolve, reject) => {
      req = mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.base.port,
          path: this.basePath + path + q,
          method: 'GET',
          agent: this.streamAgent,
          headers: { ...this.authHeaders, accept: 'application/json' },
        },
        (res) => {
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let status: Status;
              try {
                status = JSON.parse(text) as Status;
              } catch {
                status = { message: text.slice(0, 500) || `HTTP ${res.statusCode}`, code: res.statusCode };
              }
              reject(new ApiError(res.statusCode ?? 0, status, 'GET', this.basePath + path));
            });
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            let i: number;
            while ((i = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (line) onLine(JSON.parse(line));
            }
          });
          res.on('end', () => resolve());
          res.on('close', () => resolve());
          res.on('error', (e) => (aborted ? resolve() : reject(e)));
        },
      );
      req.on('error', (e) => (aborted ? resolve() : reject(new UnreachableError(this.server, e.message))));
      req.end();
    });
    return {
      done,
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }

  private backoff(attempt: number): number {
    const base = this.opts.backoffMs * 2 ** attempt;
    return Math.min(base, 5000) * (0.75 + Math.random() * 0.5);
  }

  private once(
    method: string,
    target: string,
    body: string | undefined,
    contentType: string,
    timeoutMs: number,
    raw = false,
    accept?: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const mod = this.base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.base.port,
          path: target,
          method,
          agent: this.agent,
          headers: {
            ...this.authHeaders,
            accept: accept ?? (raw ? '*/*' : 'application/json'),
            ...(body !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

// A 500 whose Status says the request itself is bad (e.g. a webhook that cannot be called) will not
// heal by retrying; "internal error" without such a hint might.
function isPermanent5xx(text: string): boolean {
  return /failed calling webhook|failed to create typed patch object|conversion webhook/.test(text);
}

function sameTls(a: Credentials, b: Credentials): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x && y ? x.equals(y) : x === y);
  return (
    eq(a.ca, b.ca) &&
    eq(a.cert, b.cert) &&
    eq(a.key, b.key) &&
    a.servername === b.servername &&
    a.rejectUnauthorized === b.rejectUnauthorized
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
