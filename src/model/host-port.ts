/** Kafka's conventional port, used when a bootstrap server names none. */
export const KAFKA_DEFAULT_PORT = 9092;

/** `host:port` → parts; Kafka's conventional port 9092 when none is given. */
export function splitHostPort(server: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(server);
  return m ? { host: m[1] as string, port: Number(m[2]) } : { host: server, port: KAFKA_DEFAULT_PORT };
}

/** Ports as numbers from a list or a comma-separated string (`excludeInboundPorts: "8022,8444"`). */
export function portList(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(Number).filter(Number.isInteger);
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  return [];
}
