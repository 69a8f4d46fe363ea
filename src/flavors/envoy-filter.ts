import type { ServerlessMeshSpec } from '../api/types.ts';
import type { KubeObject } from '../util/kube.ts';

/**
 * Lifts Envoy's 300 s stream idle timeout (and max stream duration) on every HTTP connection manager
 * of the mesh, for requests that stay silent longer (research serverless-operator.md §4.1, 08_envoy_filter.yaml).
 */
export function streamIdleTimeoutFilter(spec: ServerlessMeshSpec): KubeObject {
  return {
    // EnvoyFilter has no v1: v1alpha3 is its only version.
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: 'disable-stream-idle-timeout', namespace: spec.mesh.namespace },
    spec: {
      configPatches: [
        {
          applyTo: 'NETWORK_FILTER',
          match: { listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
          patch: {
            operation: 'MERGE',
            value: {
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                stream_idle_timeout: '0s',
                common_http_protocol_options: { max_stream_duration: '0s' },
              },
            },
          },
        },
      ],
    },
  };
}
