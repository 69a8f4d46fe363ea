import { EVENTING_NS } from '../../model/constants.ts';
import { KKAFKA, SERVICE_ENTRY } from '../context.ts';
import type { Hit, Rule } from '../types.ts';
import { arr, get, str, strs } from '../util.ts';

const servers = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : strs(v);

export const kafkaBootstrapWithoutServiceEntry: Rule = {
  meta: {
    code: 'SM2006',
    name: 'kafka-bootstrap-without-service-entry',
    severity: 'error',
    title: 'Kafka bootstrap server without a ServiceEntry',
    description:
      'Injected Knative Kafka workloads reach the Kafka cluster through their sidecar; a ServiceEntry in knative-eventing must declare every bootstrap host and port, or the clients "run out of available brokers".',
    source: 'seed 001 §1.4.3 step 7; research users-and-anchors.md P23',
    fix: 'Create a ServiceEntry in knative-eventing with the bootstrap hosts and TCP ports of the Kafka listeners (location MESH_EXTERNAL, resolution NONE).',
    inputs: [KKAFKA, SERVICE_ENTRY],
  },
  check(ctx) {
    const entries = ctx.index.of(SERVICE_ENTRY).filter((e) => {
      const exportTo = strs(get(e, 'spec', 'exportTo'));
      return e.metadata.namespace === EVENTING_NS || exportTo.length === 0 || exportTo.includes('*');
    });
    const covered = (host: string, port: number) =>
      entries.some(
        (e) =>
          strs(get(e, 'spec', 'hosts')).some((h) => h === host || (h.startsWith('*') && host.endsWith(h.slice(1)))) &&
          arr(get(e, 'spec', 'ports')).some((p) => Number(get(p, 'number')) === port),
      );
    const out: Hit[] = [];
    for (const k of ctx.index.of(KKAFKA)) {
      const refs: Array<[string, string[]]> = [
        ['channel', ['spec', 'channel', 'bootstrapServers']],
        ['broker', ['spec', 'broker', 'defaultConfig', 'bootstrapServers']],
      ];
      const seen = new Set<string>();
      for (const [what, path] of refs) {
        if (get(k, ...path.slice(0, 2), 'enabled') === false) continue;
        for (const s of servers(get(k, ...path))) {
          const m = /^(.+?)(?::(\d+))?$/.exec(s)!;
          const host = m[1]!;
          const port = Number(m[2] ?? 9092);
          if (seen.has(`${host}:${port}`) || covered(host, port)) continue;
          seen.add(`${host}:${port}`);
          out.push({
            object: k,
            message: `KnativeKafka ${k.metadata.namespace}/${k.metadata.name}: ${what} bootstrap server ${str(s)} has no ServiceEntry for host ${host} port ${port}`,
            path,
          });
        }
      }
    }
    return out;
  },
};
