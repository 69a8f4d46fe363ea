import yaml from 'js-yaml';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/cluster/client.ts';
import { CRD_NAME } from '../../src/controller/crd.ts';
import type { KubeObject } from '../../src/util/kube.ts';
import { ROOT } from '../helpers/shared.ts';
import { cli, waitUntil, type CliResult } from './helpers.ts';

/** Installs the committed deploy/crd.yaml (server-side apply) and waits until it is Established. */
export async function installCrd(c: KubeClient): Promise<void> {
  const crd = yaml.load(readFileSync(join(ROOT, 'deploy/crd.yaml'), 'utf8')) as KubeObject;
  await c.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`, {
    body: crd,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'test', force: true },
  });
  await waitUntil('the ServerlessMesh CRD is established', async () => {
    const o = await c.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
    );
    return !!o.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
  });
}

export interface Controller {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** The port of /healthz /readyz /metrics, once the controller serves them. */
  port: Promise<number>;
  stderr: () => string;
}

/** `serverless-mesh controller run` as a child process (Lease in "default", probes on a free port). */
export function startController(identity: string, extraArgs: string[] = [], env: Record<string, string | undefined> = {}): Controller {
  const run = cli(
    [
      'controller',
      'run',
      '--listen',
      '127.0.0.1:0',
      '--identity',
      identity,
      '--lease-namespace',
      'default',
      '--resync',
      '20s',
      ...extraArgs,
    ],
    env,
  );
  let err = '';
  const port = new Promise<number>((resolve, reject) => {
    run.child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving \/healthz \/readyz \/metrics on [^\s:]+:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    void run.done.then((r) => reject(new Error(`controller exited early (${r.code}): ${r.stderr}`)));
  });
  port.catch(() => {});
  return { ...run, port, stderr: () => err };
}

export async function stopController(ctl: Controller | undefined): Promise<void> {
  if (!ctl || ctl.child.exitCode !== null || ctl.child.signalCode !== null) return;
  ctl.child.kill('SIGTERM');
  await ctl.done;
}

export async function fetchText(port: number, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
}
