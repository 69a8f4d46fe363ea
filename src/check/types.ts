/** The analyzer's rule contract (typescript-eslint / istioctl analyze style): metadata, inputs, a pure check. */
import type { KnativeModel } from '../authz/knative.ts';
import type { VerifyReport } from '../verify/matrix.ts';
import type { FlavorProfile } from '../flavors/index.ts';
import type { Severity } from '../report/finding.ts';
import type { KubeObject } from '../util/kube.ts';
import type { PathSegment } from '../util/yaml-source.ts';
import type { ResourceIndex } from './resource-index.ts';

export interface RuleMeta {
  /** `SM` + 4 digits; never reused (retired codes stay in the catalogue). */
  code: string;
  /** kebab-case, the rule's file name. */
  name: string;
  severity: Severity;
  title: string;
  description: string;
  /** Where the pitfall is documented: seed section or research item. */
  source: string;
  fix: string;
  /**
   * Kinds the rule reads (`Kind` for the core group, else `Kind.group`). The rule runs only when at
   * least one object of one of them is present (Istio's RemoveSkipped); `--cluster` lists each once.
   * `*` (schema rule): every object.
   */
  inputs: readonly string[];
}

/** One problem a rule found: the object and, when it helps, the field (for FILE:LINE:COL). */
export interface Hit {
  object: KubeObject;
  message: string;
  path?: PathSegment[];
}

export interface CheckContext {
  readonly index: ResourceIndex;
  /** Mesh flavour read from the control-plane objects present; undefined when no mesh object is present. */
  readonly profile: FlavorProfile | undefined;
  /** Mesh (control plane) namespace. */
  readonly meshNamespace: string;
  /** Namespaces in the mesh: member roll (+ members) or injection-labelled namespaces. */
  readonly meshNamespaces: ReadonlySet<string>;
  /** The Knative data-path model of verify, built on first use. */
  model(): KnativeModel;
  /** verify's matrix (counting mode) and required edges over that model, computed once for every rule that needs it. */
  verification(): VerifyReport;
  /** Schema validation (CRDs + CEL); undefined when no CRD set was loaded or the kind has no CRD. */
  validate?: (obj: KubeObject) => Array<{ pointer: string; message: string }> | undefined;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: CheckContext): Hit[];
}

export interface RetiredRule {
  code: string;
  name: string;
  retired: string;
}
