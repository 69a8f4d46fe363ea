import { AUTHZ_POLICY } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, strs } from '../util.ts';

export const hostWithoutPortForm: Rule = {
  meta: {
    code: 'SM4004',
    name: 'host-without-port-form',
    severity: 'warning',
    title: 'Host rule without the `:*` port form',
    description:
      'Exact (wildcard-free) hosts / notHosts match the Host header exactly (case-insensitively), and the header may carry a port: "foo.com" does not match "foo.com:8080". A host listed without "foo.com:*" misses such requests (an ALLOW refuses them, a notHosts exception lets them through).',
    source: 'research istio-semantics.md §1.6 (Istio security best practices; Red Hat OSSM "Required update for authorization policies")',
    fix: 'List both forms: hosts: ["foo.com", "foo.com:*"].',
    inputs: [AUTHZ_POLICY],
  },
  check(ctx) {
    const out: Hit[] = [];
    for (const p of ctx.index.of(AUTHZ_POLICY))
      arr(get(p, 'spec', 'rules')).forEach((r, ri) =>
        arr(get(r, 'to')).forEach((t, ti) => {
          for (const field of ['hosts', 'notHosts']) {
            const hs = strs(get(t, 'operation', field));
            const set = new Set(hs.map((h) => h.toLowerCase()));
            // Only exact hosts: Istio's string match has one `*` (prefix, suffix or presence), so `*.ns` cannot take a `:*` form.
            const missing = hs.filter((h) => !h.includes('*') && !h.includes(':') && !set.has(`${h.toLowerCase()}:*`));
            if (missing.length)
              out.push({
                object: p,
                message: `AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name} rules[${ri}] ${field} ${missing.join(', ')} without the ":*" form`,
                path: ['spec', 'rules', ri, 'to', ti, 'operation', field],
              });
          }
        }),
      );
    return out;
  },
};
