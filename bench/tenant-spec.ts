import { parseSpec } from '../src/api/load.ts';
import type { ServerlessMesh } from '../src/api/types.ts';

/**
 * The benchmarks' spec: `tenants` tenants named tenant-<t>, each owning `namespacesPerTenant`
 * namespaces tenant-<t>-ns-<n>; `extra` is more YAML under `spec:` (two-space indented).
 */
export function tenantSpecText(tenants: number, namespacesPerTenant: number, extra = ''): string {
  const lines = Array.from({ length: tenants }, (_, t) => {
    const ns = Array.from({ length: namespacesPerTenant }, (_, n) => `tenant-${t}-ns-${n}`).join(', ');
    return `    - {name: tenant-${t}, namespaces: [${ns}]}`;
  });
  return `apiVersion: serverlessmesh.dev/v1alpha1
kind: ServerlessMesh
metadata: {name: bench}
spec:
  domain: apps.example.com
${extra}  tenants:
${lines.join('\n')}
`;
}

export const tenantSpec = (tenants: number, namespacesPerTenant: number, extra = ''): ServerlessMesh =>
  parseSpec('bench.yaml', tenantSpecText(tenants, namespacesPerTenant, extra));
