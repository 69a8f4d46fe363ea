// Shared by the ksvc-* rules: which Knative Services are in a mesh namespace.
import type { KubeObject } from '../../util/kube.ts';
import { KSVC } from '../context.ts';
import type { CheckContext } from '../types.ts';

export const meshKsvcs = (ctx: CheckContext): KubeObject[] =>
  ctx.profile ? ctx.index.of(KSVC).filter((k) => ctx.meshNamespaces.has(k.metadata.namespace ?? 'default')) : [];

export const ref = (o: KubeObject) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
