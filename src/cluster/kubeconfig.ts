import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { UserError } from '../util/errors.ts';

export interface KubeconfigOptions {
  kubeconfig?: string;
  context?: string;
}

/**
 * --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else in-cluster. client-node's loadFromDefault
 * silently falls back to http://localhost:8080 when nothing exists, so detect that case here.
 */
export function loadKubeConfig(opts: KubeconfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) {
      if (!existsSync(opts.kubeconfig)) throw new UserError(`--kubeconfig ${opts.kubeconfig}: file not found`);
      kc.loadFromFile(opts.kubeconfig);
    } else {
      const envPaths = (process.env.KUBECONFIG ?? '').split(':').filter(Boolean);
      const found =
        envPaths.some((p) => existsSync(p)) ||
        existsSync(join(homedir(), '.kube', 'config')) ||
        existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
      if (!found) {
        throw new UserError(
          envPaths.length
            ? `KUBECONFIG=${process.env.KUBECONFIG}: no such file`
            : 'no kubeconfig: pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config',
        );
      }
      kc.loadFromDefault();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read kubeconfig: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new UserError(
        `--context ${opts.context}: no such context (have: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
  return kc;
}
