/**
 * Offline evaluation of CRD `x-kubernetes-validations` (CEL) rules with @bufbuild/cel, following
 * apiextensions-apiserver pkg/apiserver/schema/cel/validation.go (Validator.validate /
 * validateExpressions) and https://kubernetes.io/docs/reference/using-api/cel/.
 * Only creates are validated: there is never an old object.
 */
import { isCelError, parse, plan, type CelResult } from '@bufbuild/cel';
import { isKnownFunction, kubernetesCelEnv } from './cel-library.ts';
import {
  additionalSchema,
  escapeProperty,
  largestCollection,
  toCelValue,
  withTypeAndObjectMeta,
  type KubeSchema,
  type ValidationRule,
} from './cel-values.ts';

type Expr = ReturnType<typeof parse>['expr'];
export type CelProgram = (bindings: Record<string, unknown>) => CelResult;

export interface CompiledRule {
  source: ValidationRule;
  /** Undefined when the rule failed to compile; `error` says why. */
  program?: CelProgram;
  messageProgram?: CelProgram;
  error?: string;
  /** Transition rule: references `oldSelf`. */
  usesOldSelf: boolean;
  /** Deepest nesting of comprehensions (all/exists/map/filter …): the exponent of its cost. */
  comprehensionDepth: number;
  /** JSON pointer suffix from `fieldPath`, relative to the node holding the rule. */
  fieldPointer: string;
}

/** Rules of one schema node and the nodes below it that hold rules (other nodes are left out). */
export interface CelRuleNode {
  schema: KubeSchema;
  rules: CompiledRule[];
  properties: Map<string, CelRuleNode>;
  items?: CelRuleNode;
  additionalProperties?: CelRuleNode;
}

/** Plans programs once per rule text; owned by whoever owns the schemas (not module-global). */
export type ProgramCache = Map<string, CelProgram | Error>;

const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

function planCached(source: string, cache: ProgramCache): CelProgram {
  let hit = cache.get(source);
  if (!hit) {
    try {
      hit = plan(kubernetesCelEnv, parse(source)) as CelProgram;
    } catch (e) {
      hit = e instanceof Error ? e : new Error(String(e));
    }
    cache.set(source, hit);
  }
  if (hit instanceof Error) throw hit;
  return hit;
}

/**
 * What the static checks learn walking an expression. The checks stand in for cel-go's type
 * checker where a mistake would otherwise only surface at run time: unknown functions and
 * identifiers, and fields of `self` (or of comprehension variables over it) that the schema does not declare.
 */
interface ExprFacts {
  usesOldSelf: boolean;
  depth: number;
}

/** Schema of a variable in scope, or null for a variable whose type is not tracked (dyn). */
type Scope = Map<string, KubeSchema | null>;

function checkExpr(e: Expr | undefined, scope: Scope, facts: ExprFacts, depth: number): KubeSchema | null {
  const k = e?.exprKind;
  switch (k?.case) {
    case undefined:
    case 'constExpr':
      return null;
    case 'identExpr': {
      const name = k.value.name;
      if (name === 'oldSelf') facts.usesOldSelf = true;
      if (scope.has(name)) return scope.get(name) ?? null;
      if (!TYPE_IDENTS.has(name)) throw new Error(`undeclared reference to '${name}'`);
      return null;
    }
    case 'selectExpr': {
      const operand = checkExpr(k.value.operand, scope, facts, depth);
      return operand ? fieldSchema(operand, k.value.field) : null;
    }
    case 'callExpr': {
      // Inner expressions first, so the first error is the leftmost, as cel-go reports it.
      checkExpr(k.value.target, scope, facts, depth);
      for (const arg of k.value.args) checkExpr(arg, scope, facts, depth);
      if (!isKnownFunction(k.value.function)) throw new Error(`undeclared reference to '${k.value.function}'`);
      return null;
    }
    case 'listExpr':
      for (const el of k.value.elements) checkExpr(el, scope, facts, depth);
      return null;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') checkExpr(entry.keyKind.value, scope, facts, depth);
        checkExpr(entry.value, scope, facts, depth);
      }
      return null;
    case 'comprehensionExpr': {
      const c = k.value;
      const range = checkExpr(c.iterRange, scope, facts, depth);
      checkExpr(c.accuInit, scope, facts, depth);
      const inner: Scope = new Map(scope);
      // Over a list the variable is an item; over a map it is a key (a string: nothing to check).
      inner.set(c.iterVar, range?.items ?? null);
      if (c.iterVar2) inner.set(c.iterVar2, null);
      inner.set(c.accuVar, null);
      facts.depth = Math.max(facts.depth, depth + 1);
      checkExpr(c.loopCondition, inner, facts, depth + 1);
      checkExpr(c.loopStep, inner, facts, depth + 1);
      checkExpr(c.result, inner, facts, depth);
      return null;
    }
  }
}

/** The schema of `s.field` in CEL terms; throws where cel-go's checker reports "undefined field". */
function fieldSchema(s: KubeSchema, field: string): KubeSchema | null {
  if (s['x-kubernetes-int-or-string']) return null;
  const extra = additionalSchema(s);
  if (extra) return extra; // map: `m.key` is a key lookup
  if (s.type !== 'object') return null;
  const name = Object.keys(s.properties ?? {}).find((p) => escapeProperty(p) === field);
  if (name === undefined) throw new Error(`undefined field '${field}'`);
  return s.properties![name]!;
}

/**
 * `fieldPath` (`.a.b`, `.a['x.y']`; relative to the rule's node) → JSON pointer suffix; the
 * apiserver rejects a CRD whose fieldPath does not name a field of the schema.
 */
export function fieldPathToPointer(fieldPath: string, schema: KubeSchema): string {
  let s: KubeSchema | undefined = schema;
  let out = '';
  const re = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fieldPath)) !== null) {
    const key = m[1] ?? m[2]!.replace(/\\(.)/g, '$1');
    s = s?.properties ? s.properties[key] : additionalSchema(s ?? {});
    if (!s) throw new Error(`fieldPath ${fieldPath}: does not refer to a valid field`);
    out += '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
    if (re.lastIndex === fieldPath.length) return out;
  }
  if (fieldPath !== '') throw new Error(`fieldPath ${fieldPath}: expected [ or .`);
  return out;
}

/** Compiles one rule of the node with schema `s` (`isResourceRoot`: the CR root or an embedded resource). */
export function compileRule(rule: ValidationRule, s: KubeSchema, isResourceRoot: boolean, cache: ProgramCache): CompiledRule {
  const self = isResourceRoot ? withTypeAndObjectMeta(s) : s;
  const facts: ExprFacts = { usesOldSelf: false, depth: 0 };
  const compiled: CompiledRule = { source: rule, usesOldSelf: false, comprehensionDepth: 0, fieldPointer: '' };
  try {
    const scope: Scope = new Map<string, KubeSchema | null>([
      ['self', self],
      ['oldSelf', self],
    ]);
    checkExpr(parse(rule.rule).expr, scope, facts, 0);
    compiled.program = planCached(rule.rule, cache);
    if (rule.messageExpression) {
      checkExpr(parse(rule.messageExpression).expr, scope, { usesOldSelf: false, depth: 0 }, 0);
      compiled.messageProgram = planCached(rule.messageExpression, cache);
    }
    if (rule.fieldPath) compiled.fieldPointer = fieldPathToPointer(rule.fieldPath, s);
  } catch (e) {
    compiled.program = undefined;
    compiled.error = e instanceof Error ? e.message : String(e);
  }
  compiled.usesOldSelf = facts.usesOldSelf;
  compiled.comprehensionDepth = facts.depth;
  return compiled;
}

/** The rule tree of a schema; undefined when no node below holds a rule. */
export function buildRuleTree(s: KubeSchema, isResourceRoot: boolean, cache: ProgramCache): CelRuleNode | undefined {
  const rules = (s['x-kubernetes-validations'] ?? []).map((r) => compileRule(r, s, isResourceRoot, cache));
  const properties = new Map<string, CelRuleNode>();
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const child = buildRuleTree(prop, !!prop['x-kubernetes-embedded-resource'], cache);
    if (child) properties.set(key, child);
  }
  const extra = additionalSchema(s);
  const items = s.items ? buildRuleTree(s.items, !!s.items['x-kubernetes-embedded-resource'], cache) : undefined;
  const additionalProperties = extra ? buildRuleTree(extra, !!extra['x-kubernetes-embedded-resource'], cache) : undefined;
  if (rules.length === 0 && properties.size === 0 && !items && !additionalProperties) return undefined;
  return { schema: isResourceRoot ? withTypeAndObjectMeta(s) : s, rules, properties, items, additionalProperties };
}

/** Every rule of a tree with the JSON-pointer pattern of its node (`*` for list items and map values). */
export function* treeRules(node: CelRuleNode, pointer = ''): Generator<{ pointer: string; rule: CompiledRule }> {
  for (const rule of node.rules) yield { pointer: pointer || '/', rule };
  for (const [key, child] of node.properties) yield* treeRules(child, `${pointer}/${key}`);
  if (node.items) yield* treeRules(node.items, `${pointer}/*`);
  if (node.additionalProperties) yield* treeRules(node.additionalProperties, `${pointer}/*`);
}

export interface CelBudget {
  /** Upper bound of (largest collection size) ^ (comprehension nesting) for one rule, like the apiserver's per-call cost limit. */
  perCallLimit: number;
  /** Wall time for all rules of one object. */
  timeBudgetMs: number;
}

export const DEFAULT_CEL_BUDGET: CelBudget = { perCallLimit: 1_000_000, timeBudgetMs: 2_000 };

export interface CelViolation {
  pointer: string;
  message: string;
}

/** How the rules of one object fared; transition rules are skipped (no old object on create), not passed. */
export interface CelRuleStats {
  passed: number;
  failed: number;
  /** Evaluation errors and compile errors; reported as violations too. */
  errors: number;
  skippedTransition: number;
  /** Not evaluated because of the budget. */
  overBudget: number;
}

export interface CelReport {
  violations: CelViolation[];
  stats: CelRuleStats;
}

interface Run {
  budget: CelBudget;
  deadline: number;
  stopped: boolean;
  report: CelReport;
}

/** Evaluates every rule of `tree` on `obj` (already defaulted). */
export function evaluateRules(tree: CelRuleNode, obj: unknown, budget: CelBudget = DEFAULT_CEL_BUDGET): CelReport {
  const run: Run = {
    budget,
    deadline: Date.now() + budget.timeBudgetMs,
    stopped: false,
    report: { violations: [], stats: { passed: 0, failed: 0, errors: 0, skippedTransition: 0, overBudget: 0 } },
  };
  visit(tree, obj, '', run);
  return run.report;
}

const pointerKey = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

function visit(node: CelRuleNode, value: unknown, pointer: string, run: Run): void {
  // Only present, non-null values are validated (validateExpressions: "We only validate non-null values").
  if (value === undefined || value === null || run.stopped) return;
  if (node.rules.length > 0) evaluateNode(node, value, pointer, run);
  if (Array.isArray(value)) {
    if (node.items) value.forEach((item, i) => visit(node.items!, item, `${pointer}/${i}`, run));
    return;
  }
  if (typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const child = node.properties.get(key) ?? (node.schema.properties ? undefined : node.additionalProperties);
    if (child) visit(child, v, `${pointer}/${pointerKey(key)}`, run);
  }
}

function evaluateNode(node: CelRuleNode, value: unknown, pointer: string, run: Run): void {
  const { report } = run;
  const at = pointer || '/';
  const self = toCelValue(value, node.schema);
  const collection = largestCollection(value);
  for (const rule of node.rules) {
    if (Date.now() > run.deadline) {
      report.violations.push({
        pointer: at,
        message: `CEL validation stopped after ${run.budget.timeBudgetMs} ms; no further validation rules were run`,
      });
      run.stopped = true;
      return;
    }
    const ruleText = ruleErrorString(rule.source);
    if (!rule.program) {
      report.stats.errors++;
      report.violations.push({ pointer: at, message: `rule compile error: ${rule.error}` });
      continue;
    }
    // Transition rules run only against an existing object (or with optionalOldSelf, which
    // @bufbuild/cel cannot express: it has no optional types); creates have none.
    if (rule.usesOldSelf) {
      report.stats.skippedTransition++;
      continue;
    }
    const cost = Math.max(1, collection) ** rule.comprehensionDepth;
    if (cost > run.budget.perCallLimit) {
      report.stats.overBudget++;
      report.violations.push({
        pointer: at,
        message: `rule not evaluated: estimated cost ${cost} exceeds the per-call limit ${run.budget.perCallLimit}: ${ruleText}`,
      });
      continue;
    }
    const result = rule.program({ self });
    if (isCelError(result)) {
      report.stats.errors++;
      report.violations.push({ pointer: at, message: `${celErrorText(result.message)} evaluating rule: ${ruleText}` });
    } else if (result === true) {
      report.stats.passed++;
    } else {
      report.stats.failed++;
      report.violations.push({ pointer: pointer + rule.fieldPointer || '/', message: failureMessage(rule, self) });
    }
  }
}

/** The rule's message, or its evaluated messageExpression (falling back to the message when that is unusable). */
function failureMessage(rule: CompiledRule, self: unknown): string {
  if (rule.messageProgram) {
    const out = rule.messageProgram({ self });
    const text = typeof out === 'string' ? out.trim() : '';
    if (text !== '' && !text.includes('\n')) return text;
  }
  return ruleMessageOrDefault(rule.source);
}

function ruleMessageOrDefault(rule: ValidationRule): string {
  return rule.message ? rule.message.trim() : `failed rule: ${ruleErrorString(rule)}`;
}

function ruleErrorString(rule: ValidationRule): string {
  return (rule.message || rule.rule).trim();
}

/** cel-go's wording where @bufbuild/cel's differs, so messages match the apiserver's. */
function celErrorText(message: string): string {
  return message.replace(/^field not found: /, 'no such key: ');
}
