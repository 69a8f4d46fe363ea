/**
 * JSON values → CEL values the way the apiserver presents them to CRD validation rules
 * (k8s.io/apiserver/pkg/cel/common/values.go `UnstructuredToVal`, schemas.go `SchemaDeclType`).
 */
import { celMap, isCelError, parse, plan, type CelInput, type CelMap } from '@bufbuild/cel';
import { kubernetesCelEnv } from './cel-library.ts';

/** The parts of a structural schema node that CEL validation reads. */
export interface KubeSchema {
  type?: string;
  format?: string;
  nullable?: boolean;
  default?: unknown;
  properties?: Record<string, KubeSchema>;
  additionalProperties?: KubeSchema | boolean;
  items?: KubeSchema;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
}

/** One `x-kubernetes-validations` entry. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

// CEL reserved words; a property named like one is visible as `__word__`
// (k8s.io/apiserver/pkg/cel/escaping.go).
const RESERVED = new Set([
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
]);
const ESCAPES: Record<string, string> = { __: '__underscores__', '.': '__dot__', '-': '__dash__', '/': '__slash__' };

/** A property name as a CEL identifier, or undefined when it has none (the field is then invisible to rules). */
export function escapeProperty(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name) || /[^a-zA-Z0-9_./-]/.test(name)) return undefined;
  if (RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__|[./-]/g, (s) => ESCAPES[s]!);
}

/** The schema of a resource root: apiVersion, kind and metadata.name/generateName are always visible. */
export function withTypeAndObjectMeta(s: KubeSchema): KubeSchema {
  const str: KubeSchema = { type: 'string' };
  return {
    ...s,
    properties: {
      ...s.properties,
      apiVersion: str,
      kind: str,
      metadata: { type: 'object', properties: { name: str, generateName: str } },
    },
  };
}

export function additionalSchema(s: KubeSchema): KubeSchema | undefined {
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies schema defaults and drops nulls of non-nullable fields, in place, as the apiserver does
 * before validating (apiextensions-apiserver pkg/apiserver/schema/defaulting): rules see defaulted values.
 */
export function applyDefaults(value: unknown, s: KubeSchema): void {
  if (Array.isArray(value)) {
    if (s.items) for (const item of value) applyDefaults(item, s.items);
    return;
  }
  if (!isObject(value)) return;
  const extra = additionalSchema(s);
  for (const [key, prop] of Object.entries(s.properties ?? {})) defaultMember(value, key, prop);
  if (extra) for (const key of Object.keys(value)) if (!s.properties?.[key]) defaultMember(value, key, extra);
}

function defaultMember(obj: Record<string, unknown>, key: string, s: KubeSchema): void {
  if (obj[key] === undefined || (obj[key] === null && !s.nullable)) {
    if (s.default !== undefined) obj[key] = structuredClone(s.default);
    else if (obj[key] === null) delete obj[key];
  }
  if (obj[key] !== undefined) applyDefaults(obj[key], s);
}

// Formats that change the CEL type of a string (SchemaDeclType); converted with CEL's own
// constructors so the values are the library's Timestamp/Duration.
const fromString = {
  duration: plan(kubernetesCelEnv, parse('duration(s)')),
  'date-time': plan(kubernetesCelEnv, parse('timestamp(s)')),
  date: plan(kubernetesCelEnv, parse("timestamp(s + 'T00:00:00Z')")),
};

function stringValue(v: string, format: string | undefined): CelInput {
  if (format === 'byte') return Uint8Array.from(Buffer.from(v, 'base64'));
  if (format === 'duration' || format === 'date-time' || format === 'date') {
    const out = fromString[format]({ s: v });
    // The schema validator reports a malformed value; the rule then sees the plain string.
    return isCelError(out) ? v : out;
  }
  return v;
}

/** `value` (JSON, present, not null) as the CEL value a rule on schema `s` sees as `self`. */
export function toCelValue(value: unknown, s: KubeSchema): CelInput {
  if (value === null) return null;
  if (s['x-kubernetes-int-or-string']) return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : (value as CelInput);
  if (Array.isArray(value)) return value.map((item) => (s.items ? toCelValue(item, s.items) : (item as CelInput)));
  if (isObject(value)) return objectValue(value, s);
  switch (typeof value) {
    case 'number':
      return s.type === 'integer' && Number.isInteger(value) ? BigInt(value) : value;
    case 'string':
      return s.type === 'string' ? stringValue(value, s.format) : value;
    default:
      return value as CelInput;
  }
}

/**
 * An object with properties shows only its declared (escapable) properties; a map
 * (additionalProperties) shows every key; an object with neither, e.g. one that only preserves
 * unknown fields, shows nothing.
 */
function objectValue(value: Record<string, unknown>, s: KubeSchema): CelMap {
  const root = s['x-kubernetes-embedded-resource'] ? withTypeAndObjectMeta(s) : s;
  const out = new Map<string, CelInput>();
  const extra = additionalSchema(root);
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const prop = root.properties?.[key];
    if (prop) {
      const name = escapeProperty(key);
      if (name !== undefined) out.set(name, toCelValue(v, prop));
    } else if (extra && !root.properties) {
      out.set(key, toCelValue(v, extra));
    }
  }
  return nullAwareMap(out);
}

/**
 * A CEL map whose `has` counts keys bound to null: @bufbuild/cel 0.6.1 implements `has` as
 * `get(key) != undefined`, which makes `has(self.x)` and `'x' in self` false for a nullable field
 * set to null (CEL and cel-go say true).
 */
function nullAwareMap(entries: Map<string, CelInput>): CelMap {
  const map = celMap(entries);
  const has = map.has.bind(map);
  Object.defineProperty(map, 'has', { value: (key: unknown) => (typeof key === 'string' ? entries.has(key) : has(key as string)) });
  return map;
}

/** Size of the largest list or map in `value`: what bounds the work of a comprehension. */
export function largestCollection(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((m: number, v) => Math.max(m, largestCollection(v)), value.length);
  if (isObject(value)) return Object.values(value).reduce((m: number, v) => Math.max(m, largestCollection(v)), Object.keys(value).length);
  return 0;
}
