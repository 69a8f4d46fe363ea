import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
// js-yaml 4: the Knative operator and KnativeKafka CRDs that ship are not strict YAML 1.2
// (under-indented multi-line scalars) and only js-yaml 4 reads them like kubectl does.
import jsyaml from 'js-yaml';
import { applyDefaults } from './cel-values.ts';
import {
  buildRuleTree,
  DEFAULT_CEL_BUDGET,
  evaluateRules,
  treeRules,
  type CelBudget,
  type CelRuleNode,
  type CelRuleStats,
  type CompiledRule,
  type ProgramCache,
} from './cel-rules.ts';

// ajv-formats is CJS with `export default`; under NodeNext its default import is the module object.
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;

export interface CrdVersionInfo {
  group: string;
  version: string;
  kind: string;
  served: boolean;
  storage: boolean;
  file: string;
  schema: unknown;
}

export interface SchemaViolation {
  /** JSON pointer into the object. */
  pointer: string;
  message: string;
}

/** Ajv set up for Kubernetes schemas (CRD openAPIV3Schema and the apiserver's /openapi/v2). */
export function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('string', true); // `format: string` occurs in real CRDs
  ajv.addFormat('quantity', true); // /openapi/v2: resource.Quantity
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-validations', // CEL: evaluated by CrdSchemas with @bufbuild/cel, not by Ajv
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-embedded-resource',
  ]) {
    ajv.addKeyword({ keyword });
  }
  return ajv;
}

/**
 * Kubernetes schema (CRD structural schema or /openapi/v2 definitions) → JSON Schema that rejects
 * unknown fields, as the apiserver does with fieldValidation=Strict; int-or-string becomes an
 * explicit anyOf.
 */
export function strictify(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictify);
  if (!s || typeof s !== 'object') return s;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    o[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, strictify(pv)])) : strictify(v);
  }
  if (o.format === 'int-or-string') return { anyOf: [{ type: 'integer' }, { type: 'string' }] };
  if (o.properties && o.additionalProperties === undefined && !o['x-kubernetes-preserve-unknown-fields']) {
    o.additionalProperties = false;
  }
  if (o['x-kubernetes-int-or-string']) {
    delete o.type;
    o.anyOf ??= [{ type: 'integer' }, { type: 'string' }];
  }
  return o;
}

/** Every CRD file under `dir`, one level of variant sub-folders included when `recursive`. */
function crdFiles(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (recursive) out.push(...crdFiles(p, true));
    } else if (name.endsWith('.yaml')) out.push(p);
  }
  return out;
}

export interface CrdSchemasOptions {
  /** Limits for evaluating the CEL rules of one object. */
  celBudget?: CelBudget;
}

/** Violations of one object, and how its CEL rules fared. */
export interface ValidationReport {
  violations: SchemaViolation[];
  cel: CelRuleStats;
}

// Schema violations after which the apiserver does not run CEL rules: the object lacks the shape
// they were written for (apiextensions-apiserver pkg/registry/customresource/strategy.go
// hasBlockingErr: NotSupported=enum, Required, TooLong, TooMany, TypeInvalid).
const BLOCKING_KEYWORDS = new Set(['enum', 'required', 'maxLength', 'maxItems', 'maxProperties', 'type']);
const NOT_CHECKED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

const noRules = (): CelRuleStats => ({ passed: 0, failed: 0, errors: 0, skippedTransition: 0, overBudget: 0 });

/**
 * Validators for the served versions of a set of CRDs, keyed `group/version/Kind`, compiled
 * lazily (Ajv needs ~1 s for the SMCP schema alone): the openAPIV3Schema with Ajv, then the
 * `x-kubernetes-validations` CEL rules. Compiled rules are cached per instance.
 */
export class CrdSchemas {
  private readonly versions = new Map<string, CrdVersionInfo>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ruleTrees = new Map<string, CelRuleNode | undefined>();
  /** CEL programs by rule text: the same rule recurs on many nodes and versions. */
  private readonly programs: ProgramCache = new Map();
  private readonly ajv = makeAjv();
  private readonly celBudget: CelBudget;

  constructor(options: CrdSchemasOptions = {}) {
    this.celBudget = options.celBudget ?? DEFAULT_CEL_BUDGET;
  }

  /** Loads CRD files (each holds one CustomResourceDefinition). Later files override earlier ones. */
  static fromFiles(files: string[], options?: CrdSchemasOptions): CrdSchemas {
    const schemas = new CrdSchemas(options);
    for (const file of files) schemas.add(file);
    return schemas;
  }

  /** The CRDs of one directory (e.g. `crds/networking.istio.io` or its `maistra-2.5` variant). */
  static fromDirs(dirs: string[], options?: CrdSchemasOptions): CrdSchemas {
    return CrdSchemas.fromFiles(
      dirs.flatMap((d) => crdFiles(d, false)),
      options,
    );
  }

  add(file: string): void {
    const crd = jsyaml.load(readFileSync(file, 'utf8')) as {
      spec: {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; served: boolean; storage: boolean; schema?: { openAPIV3Schema?: unknown } }>;
      };
    };
    for (const v of crd.spec.versions) {
      const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
      this.versions.set(key, {
        group: crd.spec.group,
        version: v.name,
        kind: crd.spec.names.kind,
        served: v.served,
        storage: v.storage,
        file,
        schema: v.schema?.openAPIV3Schema,
      });
      this.compiled.delete(key);
      this.ruleTrees.delete(key);
    }
  }

  get(apiVersion: string, kind: string): CrdVersionInfo | undefined {
    return this.versions.get(`${apiVersion}/${kind}`);
  }

  /** Kinds known for a group, with their served versions: to say what *is* served. */
  servedVersions(group: string, kind: string): string[] {
    return [...this.versions.values()].filter((v) => v.group === group && v.kind === kind && v.served).map((v) => v.version);
  }

  /**
   * Violations of `obj` against its CRD version; undefined when no CRD of that group/kind was loaded.
   * A version that exists but is not served is itself a violation.
   */
  validate(obj: { apiVersion: string; kind: string }): SchemaViolation[] | undefined {
    return this.validateWithReport(obj)?.violations;
  }

  /** Like `validate`, with counts of the CEL rules that passed, failed and were skipped. */
  validateWithReport(obj: { apiVersion: string; kind: string }): ValidationReport | undefined {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const info = this.versions.get(key);
    if (!info) {
      const [group] = obj.apiVersion.split('/');
      const served = this.servedVersions(group ?? '', obj.kind);
      return served.length > 0
        ? {
            violations: [{ pointer: '/apiVersion', message: `${obj.apiVersion} ${obj.kind} is not served; served: ${served.join(', ')}` }],
            cel: noRules(),
          }
        : undefined;
    }
    if (!info.served)
      return { violations: [{ pointer: '/apiVersion', message: `${obj.apiVersion} ${obj.kind} is not served` }], cel: noRules() };
    // The apiserver validates the object as decoded: defaulted, nulls of non-nullable fields dropped.
    const stored = structuredClone(obj);
    if (info.schema) applyDefaults(stored, info.schema);
    const fn = this.schemaValidator(key, info);
    const errors = fn(stored) ? [] : (fn.errors ?? []);
    const violations = errors.map(toViolation);
    const tree = this.ruleTree(key, info);
    if (!tree) return { violations, cel: noRules() };
    if (errors.some((e) => BLOCKING_KEYWORDS.has(e.keyword))) {
      return { violations: [...violations, { pointer: '/', message: NOT_CHECKED }], cel: noRules() };
    }
    const cel = evaluateRules(tree, stored, this.celBudget);
    return { violations: [...violations, ...cel.violations], cel: cel.stats };
  }

  /** Every loaded CRD version, served or not. */
  allVersions(): CrdVersionInfo[] {
    return [...this.versions.values()];
  }

  /** The compiled CEL rules of a version, each with the JSON-pointer pattern of its node (`*`: any item or key). */
  celRules(apiVersion: string, kind: string): Array<{ pointer: string; rule: CompiledRule }> {
    const key = `${apiVersion}/${kind}`;
    const info = this.versions.get(key);
    const tree = info ? this.ruleTree(key, info) : undefined;
    return tree ? [...treeRules(tree)] : [];
  }

  /** The CEL rule tree of a version (undefined: no rules), compiled on first use. */
  private ruleTree(key: string, info: CrdVersionInfo): CelRuleNode | undefined {
    if (!this.ruleTrees.has(key)) {
      this.ruleTrees.set(key, info.schema ? buildRuleTree(info.schema, true, this.programs) : undefined);
    }
    return this.ruleTrees.get(key);
  }

  private schemaValidator(key: string, info: CrdVersionInfo): ValidateFunction {
    let fn = this.compiled.get(key);
    if (!fn) {
      const root = strictify(info.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as Record<string, unknown>;
      // CRD schemas often omit apiVersion/kind/metadata at the root; the apiserver always accepts them.
      root.properties = {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        ...(root.properties as object | undefined),
      };
      fn = this.ajv.compile(root);
      this.compiled.set(key, fn);
    }
    return fn;
  }
}
function toViolation(e: ErrorObject): SchemaViolation {
  const extra =
    e.keyword === 'additionalProperties'
      ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : e.keyword === 'enum'
        ? ` ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
        : '';
  return { pointer: e.instancePath || '/', message: `${e.message ?? e.keyword}${extra}` };
}
