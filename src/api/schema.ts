/**
 * JSON Schema of the ServerlessMesh spec. Written in the structural subset of OpenAPI v3 that a
 * CustomResourceDefinition accepts, so the controller's CRD is generated from this same object
 * (`additionalProperties: false` is stripped there; the apiserver prunes unknown fields instead).
 * Every field has a default here; `useDefaults` fills them in while validating.
 */

// DNS-1123 label: what Kubernetes requires of a namespace name.
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
// host[:port] of a Kafka bootstrap server.
const HOST_PORT = '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?$';

const namespaceName = {
  type: 'string',
  maxLength: 63,
  pattern: DNS1123_LABEL,
  description: 'A namespace name (DNS-1123 label).',
} as const;

export const specSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: ['serverlessmesh.dev/v1alpha1'] },
    kind: { type: 'string', enum: ['ServerlessMesh'] },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { ...namespaceName, description: 'Name of this spec; labels every object it manages.' },
        namespace: namespaceName,
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        mesh: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Which service mesh and where its control plane lives.',
          properties: {
            flavor: {
              type: 'string',
              enum: ['ossm2', 'ossm3', 'istio'],
              default: 'ossm2',
              description: 'ossm2 = OpenShift Service Mesh 2.x (Maistra), ossm3 = 3.x (sail-operator), istio = upstream.',
            },
            namespace: { ...namespaceName, default: 'istio-system', description: 'Control plane namespace.' },
            controlPlane: {
              ...namespaceName,
              description:
                'Name of the ServiceMeshControlPlane (ossm2, default "basic") or sail-operator Istio resource (ossm3, default "default").',
            },
            version: {
              type: 'string',
              pattern: '^v[0-9]+\\.[0-9]+(\\.[0-9]+)?(-latest)?$',
              description:
                'Control plane version (ossm2: e.g. v2.6, at least v2.2; ossm3: e.g. v1.27-latest); the operator default when omitted.',
            },
            revision: {
              ...namespaceName,
              description:
                'Istio revision namespaces select with istio.io/rev (ossm3, istio). Default: none for an Istio CR named "default" (istio-injection: enabled), else its name.',
            },
            manageControlPlane: {
              type: 'boolean',
              description:
                'Render (and own) the control plane CR. Default: true, except with ingress: kourier, where the mesh is your prerequisite (docs §1.6) and only membership and policies are rendered.',
            },
            longRunningRequests: {
              type: 'boolean',
              default: false,
              description:
                "ossm3/istio: a mesh-wide EnvoyFilter lifting Envoy's 300 s stream idle timeout (requests that stay silent longer).",
            },
          },
        },
        ingress: {
          type: 'string',
          enum: ['istio', 'kourier'],
          default: 'istio',
          description: 'istio: Knative ingress through the mesh gateways, Kourier disabled; kourier: mesh with Kourier kept.',
        },
        domain: {
          type: 'string',
          maxLength: 253,
          pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$',
          description: 'Cluster apps domain; the wildcard certificate covers *.<domain>.',
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            secretName: {
              type: 'string',
              maxLength: 253,
              pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
              default: 'wildcard-certs',
              description:
                "TLS Secret served by knative-ingress-gateway, in the gateway's namespace (ossm2: the mesh namespace; ossm3, istio: knative-serving-ingress).",
            },
            generate: {
              type: 'boolean',
              default: false,
              description: 'Generate a root CA and a wildcard certificate for *.<domain> into that Secret.',
            },
          },
        },
        serving: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { enabled: { type: 'boolean', default: true } },
        },
        eventing: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { enabled: { type: 'boolean', default: true } },
        },
        kafka: {
          type: 'object',
          additionalProperties: false,
          required: ['bootstrapServers'],
          description: 'Knative Kafka (KnativeKafka + a ServiceEntry for the Kafka cluster). Omit to leave Kafka out.',
          properties: {
            enabled: { type: 'boolean', default: true },
            bootstrapServers: {
              type: 'array',
              minItems: 1,
              items: { type: 'string', pattern: HOST_PORT },
              description: 'host:port of the Kafka bootstrap servers.',
            },
            numPartitions: {
              type: 'integer',
              minimum: 1,
              maximum: 2147483647,
              default: 10,
              description: 'Kafka topic partitions (an int32).',
            },
            replicationFactor: {
              type: 'integer',
              minimum: 1,
              maximum: 32767,
              default: 3,
              description: 'Kafka replication factor (an int16).',
            },
            ports: {
              type: 'array',
              items: { type: 'integer', minimum: 1, maximum: 65535 },
              uniqueItems: true,
              description: 'Kafka listener ports for the ServiceEntry (default: the ports of bootstrapServers).',
            },
            channel: { type: 'boolean', default: true },
            source: { type: 'boolean', default: true },
            broker: { type: 'boolean', default: true },
            sink: { type: 'boolean', default: true },
          },
        },
        members: {
          type: 'array',
          default: [],
          uniqueItems: true,
          items: namespaceName,
          description: 'Extra mesh member namespaces (not part of any tenant).',
        },
        tenants: {
          type: 'array',
          default: [],
          description: 'Groups of namespaces that may reach each other and nobody else.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'namespaces'],
            properties: {
              name: namespaceName,
              namespaces: { type: 'array', minItems: 1, uniqueItems: true, items: namespaceName },
            },
          },
        },
        metrics: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            monitoringNamespace: { ...namespaceName, default: 'openshift-monitoring' },
          },
        },
        networkPolicies: {
          type: 'string',
          enum: ['generate', 'disabled'],
          // No constant default: it depends on the flavour (fillDerivedDefaults, profile.networkPolicies).
          description:
            'ossm2 (default generate): generate lets the Serverless operator generate its NetworkPolicies, disabled sets serverless.openshift.io/disable-istio-net-policies-generation. ' +
            "ossm3, istio (default disabled, seed 000): disabled renders no NetworkPolicy; generate renders one per communication path of docs/network-paths.md. The operator's own are always off there.",
        },
        secretFiltering: {
          type: 'boolean',
          default: true,
          description: 'ENABLE_SECRET_INFORMER_FILTERING_BY_CERT_UID on net-istio-controller.',
        },
      },
    },
  },
} as const;
