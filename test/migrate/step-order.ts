/** The migration steps in the order docs/migrate.md documents: one expectation for the plan and the CLI's plan.md. */
export const DOCUMENTED_STEP_ORDER = [
  'control-plane',
  'namespaces',
  'gateways',
  'knative',
  'authorization-policies',
  'roll-knative-workloads',
  'routes',
  'member-roll',
  'operator-network-policies',
  'old-control-plane',
];
