import { AUTHZ_POLICY, SERVICE } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, str, strs } from '../util.ts';

const HTTP_OP_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];
const HTTP_SOURCE_FIELDS = ['requestPrincipals', 'notRequestPrincipals'];
const HTTP_KEY = /^(request\.|hosts$|methods$|paths$)/;
/** Protocols Istio treats as opaque TCP (port name prefix or appProtocol). */
const TCP = new Set(['tcp', 'tls', 'mongo', 'mysql', 'redis']);

export const httpFieldsOnTcpPort: Rule = {
  meta: {
    code: 'SM4003',
    name: 'http-fields-on-tcp-port',
    severity: 'warning',
    title: 'HTTP-only AuthorizationPolicy fields on a TCP port',
    description:
      'On a TCP filter chain Istio drops an ALLOW rule that has HTTP-only fields (hosts, methods, paths, request headers, requestPrincipals) — possibly denying everything — and drops only the HTTP values of a DENY rule, which then denies more than intended.',
    source:
      'research users-and-anchors.md P6; istio-semantics.md §1.9 (istio/istio authz builder); istio.io docs/tasks/security/authorization/authz-tcp',
    fix: 'Name or appProtocol the Service port as HTTP if it is, or keep TCP rules to L4 fields (ports, sources, IPs).',
    inputs: [AUTHZ_POLICY, SERVICE],
  },
  check(ctx) {
    // TCP target ports per namespace, from Service port names (`tcp`, `tcp-…`) and appProtocol.
    const tcpPorts = new Map<string, Set<number>>();
    for (const s of ctx.index.of(SERVICE))
      for (const p of arr(get(s, 'spec', 'ports'))) {
        const proto = (str(get(p, 'appProtocol')) ?? str(get(p, 'name'))?.split('-')[0] ?? '').toLowerCase();
        if (!TCP.has(proto)) continue;
        const target = get(p, 'targetPort') ?? get(p, 'port');
        const ns = s.metadata.namespace ?? 'default';
        if (typeof target === 'number') (tcpPorts.get(ns) ?? tcpPorts.set(ns, new Set()).get(ns)!).add(target);
      }
    const out: Hit[] = [];
    for (const p of ctx.index.of(AUTHZ_POLICY)) {
      const tcp = tcpPorts.get(p.metadata.namespace ?? 'default');
      if (!tcp) continue;
      arr(get(p, 'spec', 'rules')).forEach((r, ri) => {
        const ports = arr(get(r, 'to'))
          .flatMap((t) => strs(get(t, 'operation', 'ports')))
          .map(Number);
        const onTcp = ports.filter((n) => tcp.has(n));
        if (onTcp.length === 0) return;
        const http = [
          ...arr(get(r, 'to')).flatMap((t) => HTTP_OP_FIELDS.filter((f) => get(t, 'operation', f) !== undefined)),
          ...arr(get(r, 'from')).flatMap((f) => HTTP_SOURCE_FIELDS.filter((x) => get(f, 'source', x) !== undefined)),
          ...arr(get(r, 'when'))
            .map((c) => str(get(c, 'key')) ?? '')
            .filter((k) => HTTP_KEY.test(k)),
        ];
        if (http.length === 0) return;
        const action = str(get(p, 'spec', 'action')) ?? 'ALLOW';
        out.push({
          object: p,
          message: `AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name} rules[${ri}] uses HTTP-only ${[...new Set(http)].join(', ')} on TCP port ${onTcp.join(', ')}: ${action === 'ALLOW' ? 'Istio drops the whole rule there' : 'Istio drops those values and the rule matches more'}`,
          path: ['spec', 'rules', ri],
        });
      });
    }
    return out;
  },
};
