/**
 * `kubectl exec` over the apiserver's websocket (subprotocol v4.channel.k8s.io): frames carry a channel
 * byte (1 stdout, 2 stderr, 3 the final metav1.Status). With the kubeconfig's credentials from
 * kubeconfig.ts, as KubeClient uses them; client-node's Exec would need its own KubeConfig object
 * (and its start-up cost, kubeconfig.ts header).
 */
import WebSocket from 'ws';
import type { ClusterAccess } from './kubeconfig.ts';
import type { ProbeExecutor } from './probe.ts';

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export class WebSocketExecutor implements ProbeExecutor {
  constructor(private readonly access: ClusterAccess) {}

  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    timeoutMs: number,
  ): Promise<{ stdout: string; stderr: string }> {
    const c = await this.access.credentials();
    const base = new URL(this.access.server);
    const q = new URLSearchParams({ container, stdout: 'true', stderr: 'true' });
    for (const arg of command) q.append('command', arg);
    const path = `${base.pathname.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q}`;
    const url = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${path}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v4.channel.k8s.io'], {
        headers,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        servername: c.servername,
        rejectUnauthorized: c.rejectUnauthorized,
        handshakeTimeout: 15_000,
        // ws hands TLS options to tls.connect, which takes servername (kubeconfig tls-server-name).
      } as WebSocket.ClientOptions);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let status: ExecStatus | undefined;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`exec in ${namespace}/${pod} timed out after ${Math.round(timeoutMs / 1000)}s`));
      }, timeoutMs);
      ws.on('message', (data: Buffer) => {
        if (data.length === 0) return;
        const ch = data[0];
        const rest = data.subarray(1);
        if (ch === 1) out.push(rest);
        else if (ch === 2) err.push(rest);
        else if (ch === 3 && rest.length) {
          try {
            status = JSON.parse(rest.toString('utf8')) as ExecStatus;
          } catch {
            status = { status: 'Failure', message: rest.toString('utf8') };
          }
        }
      });
      ws.on('unexpected-response', (req, res) => {
        clearTimeout(timer);
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          let msg = Buffer.concat(chunks).toString('utf8');
          try {
            msg = (JSON.parse(msg) as { message?: string }).message ?? msg;
          } catch {
            // not a Status
          }
          // With a listener here, ws leaves the connection to us: close it, or the keep-alive socket holds the process open.
          // (ws's own abortHandshake destroys the socket explicitly too: req.destroy() alone leaves it open.)
          req.socket?.destroy();
          res.socket?.destroy();
          req.destroy();
          reject(new Error(`exec refused (HTTP ${res.statusCode}): ${msg.slice(0, 300)}`));
        });
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      ws.on('close', () => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        // A non-zero exit of the script is still output (each request prints its own result line);
        // a Failure without an exit code (container not found…) is not.
        const exitCause = status?.details?.causes?.some((x) => x.reason === 'ExitCode');
        if (status && status.status !== 'Success' && !exitCause) reject(new Error(`exec: ${status.message ?? status.reason ?? 'failed'}`));
        else resolve({ stdout, stderr });
      });
    });
  }
}
