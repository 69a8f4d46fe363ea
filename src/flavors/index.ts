import type { MeshFlavor } from '../api/types.ts';
import { istio } from './istio.ts';
import { ossm2 } from './ossm2.ts';
import { ossm3 } from './ossm3.ts';
import type { FlavorProfile } from './types.ts';

export type { FlavorProfile, GatewayListener, GatewayProfile, GroupKind, ListenerTls } from './types.ts';

export const PROFILES: Readonly<Record<MeshFlavor, FlavorProfile>> = { ossm2, ossm3, istio };

export const profileFor = (flavor: MeshFlavor): FlavorProfile => PROFILES[flavor];

/** The flavour a set of manifests describes: the one whose API group appears (SMCP, Istio CR), else upstream Istio. */
export function detectFlavor(apiGroups: ReadonlySet<string>): FlavorProfile {
  for (const p of Object.values(PROFILES)) if (p.detectGroup && apiGroups.has(p.detectGroup)) return p;
  return istio;
}
