/**
 * The OSSM 2 → OSSM 3 migration as an ordered list of idempotent steps. Each step says what it applies
 * (rendered objects, server-side applied by the apply engine), what it deletes or patches (computed from
 * live state), and when it is already done (evaluated against live state), so an interrupted run is
 * resumed by running it again. Pure: the executor (src/cli/migrate-commands.ts) reads and writes.
 */
import type { ServerlessMesh } from '../api/types.ts';
import { profileFor } from '../flavors/index.ts';
import { EVENTING_INJECTED, EVENTING_NS, KAFKA_INJECTED, SERVING_INGRESS_NS, SERVING_INJECTED, SERVING_NS } from '../model/constants.ts';
import { render } from '../render/index.ts';
import type { TlsMaterial } from '../render/tls-secret.ts';
import type { KubeObject } from '../util/kube.ts';
import { APPLIED_HASH, contains, groupOf, isOurs, isReady, keyOf, MANAGED_BY, SPEC_LABEL } from './objects.ts';
import { OLD_GATEWAY_SERVICE } from './recover.ts';

/** A list the executor reads before a step: every object of a kind (in a namespace, with a label selector). */
export interface Query {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
}

/** What the executor read: objects by identity (group/kind/namespace/name, whatever version) and lists by query. */
export interface Live {
  get(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): KubeObject | undefined;
  list(q: Query): KubeObject[];
}

export type Action =
  | { type: 'delete'; target: KubeObject; why: string }
  /** JSON merge patch (`null` removes a key): restart annotations, releasing objects from our labels. */
  | { type: 'merge-patch'; target: KubeObject; patch: Record<string, unknown>; why: string };

export type StepId =
  | 'control-plane'
  | 'namespaces'
  | 'gateways'
  | 'knative'
  | 'authorization-policies'
  | 'roll-knative-workloads'
  | 'routes'
  | 'member-roll'
  | 'operator-network-policies'
  | 'old-control-plane';

export interface MigrationStep {
  id: StepId;
  title: string;
  /** What the step does and why, for plan.md. */
  description: string;
  /** Rendered objects this step server-side applies (the executor adds ownership labels). */
  apply: KubeObject[];
  /** Objects that must report Ready before the step counts as done. */
  waitReady: KubeObject[];
  /** Lists the step's actions and checks need besides `apply`/`waitReady` (read by identity). */
  reads: Query[];
  /** Objects read by identity besides `apply`/`waitReady`. */
  readObjects: KubeObject[];
  /** Deletes and patches still to do, given live state (empty once done). */
  actions(live: Live): Action[];
}

export interface PlanOptions {
  /** TLS material for render (the old gateway's Secret, copied). */
  tls?: TlsMaterial;
  /** Delete the old ServiceMeshControlPlane in the last step (default: keep it and release it from our labels). */
  deleteControlPlane?: boolean;
}

/** Pod-template annotation that rolls a Knative workload once onto the new sidecar (value fixed: a re-run rolls nothing). */
export const ROLLED_ANNOTATION = 'serverlessmesh.dev/rolled-for-mesh';
export const ROUTE_INGRESS_LABEL = 'serving.knative.openshift.io/ingressName';
/** What the Serverless operator generates for OSSM 2 in knative-serving and never deletes (research §2.2, §9.6). */
export const LEFTOVER_SERVING_NETWORK_POLICIES = ['webhook', 'net-istio-webhook', 'allow-from-openshift-monitoring-ns'] as const;

const CONTROL_PLANE_GROUP = 'sailoperator.io';
const isKnativeCr = (o: KubeObject) => ['operator.knative.dev', 'operator.serverless.openshift.io'].includes(groupOf(o.apiVersion));
const isPolicy = (o: KubeObject) => groupOf(o.apiVersion) === 'security.istio.io' && o.kind === 'AuthorizationPolicy';
const isNamespace = (o: KubeObject) => o.apiVersion === 'v1' && o.kind === 'Namespace';

/** Why a step is not done yet (empty: done): an object to apply missing or different, a CR not Ready, an action left. */
export function pendingOf(step: MigrationStep, live: Live): string[] {
  const out: string[] = [];
  for (const o of step.apply) {
    const l = live.get(o);
    if (!l) out.push(`${ref(o)} missing`);
    else if (!contains(l, o)) out.push(`${ref(o)} differs`);
  }
  for (const o of step.waitReady) if (!isReady(live.get(o))) out.push(`${ref(o)} not Ready`);
  for (const a of step.actions(live)) out.push(`${a.type} ${ref(a.target)}`);
  return out;
}

export const isDone = (step: MigrationStep, live: Live): boolean => pendingOf(step, live).length === 0;

const ref = (o: Pick<KubeObject, 'kind' | 'metadata'>) =>
  o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
const identity = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

/**
 * The plan from the objects of the OSSM 2 installation (`current`, as read at the start: which old objects
 * are ours, where the old mesh lives) to `mesh` (the recovered ossm3 spec).
 */
export function migrationPlan(current: readonly KubeObject[], mesh: ServerlessMesh, opts: PlanOptions = {}): MigrationStep[] {
  const spec = mesh.spec;
  const profile = profileFor(spec.mesh.flavor);
  const objects = render(mesh, opts.tls ? { tls: opts.tls } : {});
  const meshNs = spec.mesh.namespace;
  const cpNamespaces = new Set(profile.controlPlaneNamespaces(spec));
  const taken = new Set<KubeObject>();
  const pick = (f: (o: KubeObject) => boolean) => {
    const out = objects.filter((o) => !taken.has(o) && f(o));
    for (const o of out) taken.add(o);
    return out;
  };
  const none = () => [];
  const step = (
    s: Omit<MigrationStep, 'apply' | 'reads' | 'readObjects' | 'actions' | 'waitReady'> & Partial<MigrationStep>,
  ): MigrationStep => ({
    apply: [],
    reads: [],
    readObjects: [],
    waitReady: [],
    actions: none,
    ...s,
  });

  const controlPlane = pick((o) => (isNamespace(o) && cpNamespaces.has(o.metadata.name)) || groupOf(o.apiVersion) === CONTROL_PLANE_GROUP);
  const namespaces = pick(isNamespace);
  const knative = pick(isKnativeCr);
  const policies = pick(isPolicy);
  const gateways = pick(() => true);

  const steps: MigrationStep[] = [
    step({
      id: 'control-plane',
      title: 'Install the OSSM 3 control plane (Istio, IstioCNI)',
      description:
        `Creates the sail-operator Istio "${spec.mesh.controlPlane}" (namespace ${meshNs}) and IstioCNI, and waits for both to be Ready. ` +
        'The OSSM 2 control plane keeps running beside it until the last step.',
      apply: controlPlane,
      waitReady: controlPlane.filter((o) => groupOf(o.apiVersion) === CONTROL_PLANE_GROUP),
    }),
    step({
      id: 'namespaces',
      title: 'Label namespaces for injection',
      description:
        'Applies the Knative, member and tenant namespaces with the OSSM 3 injection label (istio-injection: enabled or istio.io/rev) and the tenant label. ' +
        'Pods already running keep their OSSM 2 sidecar until they restart.',
      apply: namespaces,
    }),
    step({
      id: 'gateways',
      title: `Create the Knative gateway in ${SERVING_INGRESS_NS} and move the Gateways`,
      description:
        `Creates the gateway Deployment, its Services and SDS Role in ${SERVING_INGRESS_NS}, copies the TLS Secret there, re-points the Gateways ` +
        `knative-serving/knative-ingress-gateway and knative-local-gateway at the new pods, and applies the mesh-wide PeerAuthentications ` +
        '(and ServiceEntry / EnvoyFilter when the spec has them). From here until the Routes step, external traffic through the old Routes is interrupted.',
      apply: gateways,
    }),
    step({
      id: 'knative',
      title: 'Switch KnativeServing config.istio and the Knative CRs to OSSM 3',
      description:
        `Points net-istio at the gateway Services in ${SERVING_INGRESS_NS} (spec.config.istio), turns the operator's NetworkPolicy generation off, ` +
        'and sets the OSSM 3 workload overrides (opt-outs for controllers and webhooks) on KnativeServing, KnativeEventing and KnativeKafka; waits until they are Ready.',
      apply: knative,
      waitReady: knative,
    }),
    step({
      id: 'authorization-policies',
      title: 'Apply the OSSM 3 AuthorizationPolicies',
      description:
        'Applies the system and per-tenant AuthorizationPolicies in security.istio.io/v1 (same names: they replace the OSSM 2 ones), with knative-serving-ingress ' +
        'in place of the mesh namespace and allow-traffic-to-ingress-gateway; after KnativeServing is Ready (research §9.10).',
      apply: policies,
    }),
    rollStep(),
    routesStep(meshNs),
    memberRollStep(current, meshNs),
    step({
      id: 'operator-network-policies',
      title: 'Delete the Serving NetworkPolicies the operator leaves behind',
      description:
        `Deletes ${LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => `${SERVING_NS}/${n}`).join(', ')}: the Serverless operator generated them for OSSM 2 and does not delete ` +
        'them when generation is turned off (research §2.2, §9.6). The Eventing ones the operator deletes itself. Runs after the member roll is gone, so no ' +
        'Maistra NetworkPolicy is left that these were opening a way through.',
      readObjects: LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => identity('networking.k8s.io/v1', 'NetworkPolicy', n, SERVING_NS)),
      actions: (live) =>
        LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => live.get(identity('networking.k8s.io/v1', 'NetworkPolicy', n, SERVING_NS)))
          .filter((o): o is KubeObject => !!o)
          .map((target) => ({ type: 'delete' as const, target, why: 'operator leftover from OSSM 2' })),
    }),
    oldControlPlaneStep(),
  ];
  return steps;

  function rollStep(): MigrationStep {
    const injected = new Set<string>([
      ...SERVING_INJECTED,
      ...(spec.eventing.enabled ? EVENTING_INJECTED : []),
      ...(spec.kafka?.enabled ? KAFKA_INJECTED : []),
    ]);
    const queries: Query[] = [
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: SERVING_NS },
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: EVENTING_NS },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: EVENTING_NS },
    ];
    const value = `${spec.mesh.flavor}/${spec.mesh.controlPlane}`;
    return step({
      id: 'roll-knative-workloads',
      title: 'Roll the Knative workloads that carry a sidecar',
      description:
        `Restarts ${[...injected].join(', ')} (where they exist) so they get the OSSM 3 sidecar: their pod templates do not change between the flavours, ` +
        `so nothing else would restart them. The restart is a pod-template annotation ${ROLLED_ANNOTATION}: ${value} (what \`oc rollout restart\` does, with a ` +
        'fixed value so a re-run restarts nothing); the Knative operator keeps annotations it does not manage. Your Knative Services are not restarted: see docs/migrate.md.',
      reads: queries,
      actions: (live) =>
        queries
          .flatMap((q) => live.list(q))
          .filter((w) => injected.has(w.metadata.name))
          .filter(
            (w) =>
              (w.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template?.metadata
                ?.annotations?.[ROLLED_ANNOTATION] !== value,
          )
          .map((target) => ({
            type: 'merge-patch' as const,
            target,
            patch: { spec: { template: { metadata: { annotations: { [ROLLED_ANNOTATION]: value } } } } },
            why: 'restart onto the OSSM 3 sidecar',
          })),
    });
  }

  function routesStep(oldNs: string): MigrationStep {
    const q: Query = { apiVersion: 'route.openshift.io/v1', kind: 'Route', namespace: oldNs, labelSelector: ROUTE_INGRESS_LABEL };
    return step({
      id: 'routes',
      title: `Move the OpenShift Routes out of ${oldNs}`,
      description:
        `Deletes the Knative Routes in ${oldNs} (label ${ROUTE_INGRESS_LABEL}) that target the OSSM 2 gateway Service ${OLD_GATEWAY_SERVICE}, so the Serverless ` +
        `route controller recreates them in ${SERVING_INGRESS_NS} (it keys its Routes by name only and would otherwise leave the new ones HostAlreadyClaimed: ` +
        'research §2.6, §9.5, hack/migrate-mesh-routes.sh). Routes pointing at any other Service are left alone. Runs after config.istio points at the new gateway.',
      reads: [q],
      actions: (live) =>
        live
          .list(q)
          .filter((r) => (r.spec as { to?: { name?: string } } | undefined)?.to?.name === OLD_GATEWAY_SERVICE)
          .map((target) => ({ type: 'delete' as const, target, why: 'stale Route of the OSSM 2 gateway' })),
    });
  }

  function memberRollStep(cur: readonly KubeObject[], ns: string): MigrationStep {
    const queries: Query[] = [
      { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', namespace: ns },
      { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMember' },
    ];
    const smmrNames = cur
      .filter((o) => o.kind === 'ServiceMeshMemberRoll' && groupOf(o.apiVersion) === 'maistra.io')
      .map((o) => o.metadata.name);
    return step({
      id: 'member-roll',
      title: 'Remove the OSSM 2 member roll',
      description:
        `Deletes the ServiceMeshMemberRoll ${smmrNames.length ? smmrNames.map((n) => `${ns}/${n}`).join(', ') : `in ${ns}`} and any ServiceMeshMember of that mesh: ` +
        'the namespaces leave the OSSM 2 mesh, and Maistra removes the NetworkPolicies and RoleBindings it manages in them. The member roll is removed even if ' +
        'serverless-mesh did not create it: it is what ties the namespaces to the old mesh.',
      reads: queries,
      actions: (live) => [
        ...live.list(queries[0]!).map((target) => ({ type: 'delete' as const, target, why: 'old member roll' })),
        ...live
          .list(queries[1]!)
          .filter((m) => ((m.spec as { controlPlaneRef?: { namespace?: string } } | undefined)?.controlPlaneRef?.namespace ?? ns) === ns)
          .map((target) => ({ type: 'delete' as const, target, why: 'old mesh member' })),
      ],
    });
  }

  function oldControlPlaneStep(): MigrationStep {
    const wanted = new Set(objects.map(keyOf));
    const leftovers = new Set<string>(LEFTOVER_SERVING_NETWORK_POLICIES.map((n) => `networking.k8s.io/NetworkPolicy/${SERVING_NS}/${n}`));
    const isSmcp = (o: KubeObject) => groupOf(o.apiVersion) === 'maistra.io' && o.kind === 'ServiceMeshControlPlane';
    const isMembership = (o: KubeObject) => groupOf(o.apiVersion) === 'maistra.io' && o.kind !== 'ServiceMeshControlPlane';
    // Ours and no longer rendered, or the control plane itself.
    const stale = current.filter(
      (o) => (isOurs(o, mesh.metadata.name) && !wanted.has(keyOf(o)) && !isMembership(o) && !leftovers.has(keyOf(o))) || isSmcp(o),
    );
    const readObjects = stale.map((o) => identity(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace));
    const smcps = stale.filter(isSmcp);
    return step({
      id: 'old-control-plane',
      title: opts.deleteControlPlane
        ? 'Delete the OSSM 2 control plane and what only it used'
        : 'Release the OSSM 2 control plane; delete what only it used',
      description:
        (opts.deleteControlPlane
          ? `Deletes the ServiceMeshControlPlane ${smcps.map(ref).join(', ') || '(none found)'} (--delete-control-plane). `
          : `Keeps the ServiceMeshControlPlane ${smcps.map(ref).join(', ') || '(none found)'} running (never deleted without --delete-control-plane) and removes ` +
            "serverless-mesh's labels from it, so a later `serverless-mesh apply` of the new spec does not prune it. ") +
        'Deletes the objects serverless-mesh created for OSSM 2 that the new spec does not render (e.g. the knative-local-gateway Service and the TLS Secret in the ' +
        'old gateway namespace); namespaces are only released, never deleted.',
      readObjects,
      actions: (live) => {
        const out: Action[] = [];
        for (const r of readObjects) {
          const o = live.get(r);
          if (!o) continue;
          if (isSmcp(o) && !opts.deleteControlPlane) {
            if (isOurs(o)) out.push({ type: 'merge-patch', target: o, patch: release, why: 'keep the control plane, drop our labels' });
          } else if (isNamespace(o)) {
            if (isOurs(o)) out.push({ type: 'merge-patch', target: o, patch: release, why: 'namespace released' });
          } else if (isSmcp(o) || isOurs(o, mesh.metadata.name))
            out.push({ type: 'delete', target: o, why: isSmcp(o) ? '--delete-control-plane' : 'OSSM 2 object no longer rendered' });
        }
        // The control plane last: once it is gone, a re-run finds nothing of OSSM 2 left to migrate.
        return [...out.filter((a) => !isSmcp(a.target)), ...out.filter((a) => isSmcp(a.target))];
      },
    });
  }
}

const release = { metadata: { labels: { [MANAGED_BY]: null, [SPEC_LABEL]: null }, annotations: { [APPLIED_HASH]: null } } };

/** Every step with its state, as Markdown (plan.md). */
export function planMarkdown(steps: readonly MigrationStep[], live?: Live): string {
  const lines = [
    '# OSSM 2 → OSSM 3 migration plan',
    '',
    'Run `serverless-mesh migrate … --apply` to execute it; re-run the same command to resume: steps already done are skipped.',
    '',
  ];
  steps.forEach((s, i) => {
    const pending = live ? pendingOf(s, live) : undefined;
    const state = pending === undefined ? '' : pending.length === 0 ? ' — already done' : ` — to do (${pending.length})`;
    lines.push(`## ${i + 1}. ${s.title} (\`${s.id}\`)${state}`, '', s.description, '');
    if (s.apply.length) lines.push(`Applies ${s.apply.length} object(s): ${s.apply.map(ref).join(', ')}.`, '');
    if (s.waitReady.length) lines.push(`Waits for Ready: ${s.waitReady.map(ref).join(', ')}.`, '');
    if (live) {
      const acts = s.actions(live);
      if (acts.length) lines.push(...acts.map((a) => `- ${a.type} ${ref(a.target)} (${a.why})`), '');
    }
  });
  return lines.join('\n');
}
