import { ISTIO_CR, PEER_AUTHN } from '../context.ts';
import type { Rule } from '../types.ts';
import { get } from '../util.ts';

export const strictPeerAuthenticationMissing: Rule = {
  meta: {
    code: 'SM3007',
    name: 'strict-peer-authentication-missing',
    severity: 'error',
    title: 'No mesh-wide STRICT PeerAuthentication',
    description:
      'Where the control plane has no mTLS switch (OSSM 3, upstream Istio), strict mTLS is a PeerAuthentication without selector in the root namespace with mtls.mode STRICT; without it the mesh stays PERMISSIVE and plaintext callers bypass identity-based policies.',
    source: 'seed 000 "Findings" (PeerAuthentication to enforce mTLS); istio-semantics.md §2.2',
    fix: 'Create PeerAuthentication default in the mesh root namespace with spec.mtls.mode: STRICT.',
    inputs: [ISTIO_CR, PEER_AUTHN],
  },
  check(ctx) {
    if (ctx.profile?.injection.mode !== 'namespace-label') return [];
    const root = ctx.model().mesh.rootNamespace;
    const strict = ctx.index
      .of(PEER_AUTHN)
      .some(
        (p) => p.metadata.namespace === root && get(p, 'spec', 'selector') === undefined && get(p, 'spec', 'mtls', 'mode') === 'STRICT',
      );
    if (strict) return [];
    return ctx.index
      .of(ISTIO_CR)
      .map((i) => ({ object: i, message: `no PeerAuthentication with mtls.mode STRICT and no selector in root namespace ${root}` }));
  },
};
