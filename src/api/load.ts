import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { InputErrors } from '../util/errors.ts';
import { inputName, readInput } from '../util/input.ts';
import { capErrors, formatError, parseYamlDocs, pointerToPath, positionOf, type PathSegment, type SourceDoc } from '../util/yaml-source.ts';
import { profileFor } from '../flavors/index.ts';
import { splitHostPort } from '../model/host-port.ts';
import { specSchema } from './schema.ts';
import { KNATIVE_SYSTEM_NAMESPACES } from '../model/constants.ts';
import type { ServerlessMesh } from './types.ts';

// Compiled on first use, not at import: every CLI command imports this module.
let validateSchema: ValidateFunction | undefined;
const specValidator = () =>
  (validateSchema ??= new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false }).compile(specSchema));

/**
 * Reads, parses, validates and defaults a ServerlessMesh spec file (`-`: stdin). Throws InputError /
 * InputErrors only, whatever the file holds (test/properties: fast-check over this function).
 */
export function loadSpecFile(file: string): ServerlessMesh {
  return parseSpec(inputName(file), readInput(file, 'spec file'));
}

/** Same as loadSpecFile for text already in memory; `file` only names it in messages. */
export function parseSpec(file: string, text: string): ServerlessMesh {
  const { docs, errors } = parseYamlDocs(file, text);
  if (errors.length > 0) throw new InputErrors(errors);
  if (docs.length !== 1) {
    const pos = docs[1] ? positionOf(docs[1], []) : { line: 1, col: 1 };
    throw new InputErrors([formatError(file, pos, [], `expected exactly one ServerlessMesh document, found ${docs.length}`)]);
  }
  const src = docs[0] as SourceDoc;
  const value = structuredClone(src.value);
  const validate = specValidator();
  if (!validate(value)) {
    throw new InputErrors(capErrors(schemaErrors(src, validate.errors ?? [])));
  }
  const spec = value as ServerlessMesh;
  fillDerivedDefaults(spec);
  const semantic = semanticErrors(spec).map((e) => formatError(file, positionOf(src, e.path), e.path, e.message));
  if (semantic.length > 0) throw new InputErrors(capErrors(semantic));
  return spec;
}

/** Defaults that depend on other fields (JSON Schema defaults are constants). */
function fillDerivedDefaults(mesh: ServerlessMesh): void {
  const profile = profileFor(mesh.spec.mesh.flavor);
  mesh.spec.mesh.controlPlane ??= profile.defaultControlPlane;
  mesh.spec.networkPolicies ??= profile.networkPolicies.default;
  // With Kourier the mesh is the user's prerequisite (docs §1.6): owning it could weaken it (mTLS off).
  mesh.spec.mesh.manageControlPlane ??= mesh.spec.ingress !== 'kourier';
  const kafka = mesh.spec.kafka;
  if (kafka && kafka.ports === undefined) {
    kafka.ports = [...new Set(kafka.bootstrapServers.map((s) => splitHostPort(s).port))];
  }
}

function schemaErrors(src: SourceDoc, errors: ErrorObject[]): string[] {
  const lines: string[] = [];
  for (const e of errors) {
    let path = pointerToPath(e.instancePath, src.value);
    let message: string;
    let atKey = false;
    switch (e.keyword) {
      case 'additionalProperties': {
        const field = String((e.params as { additionalProperty: string }).additionalProperty);
        path = [...path, field];
        atKey = true;
        message = `unknown field "${field}"`;
        break;
      }
      case 'required': {
        const field = String((e.params as { missingProperty: string }).missingProperty);
        message = `missing required field "${field}"`;
        break;
      }
      case 'enum':
        message = `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
        break;
      case 'pattern':
        message = describePattern(e, valueAt(src.value, path));
        break;
      case 'type':
        message = `must be ${(e.params as { type: string }).type}, got ${typeName(valueAt(src.value, path))}`;
        break;
      default:
        message = e.message ?? e.keyword;
    }
    lines.push(formatError(src.file, positionOf(src, path, atKey), path, message));
  }
  return [...new Set(lines)];
}

function describePattern(e: ErrorObject, value: unknown): string {
  const shown = JSON.stringify(value);
  if (e.schemaPath.includes('version')) return `invalid version ${shown}: expected vMAJOR.MINOR (e.g. v2.6)`;
  if (e.schemaPath.includes('/domain/'))
    return `invalid domain ${shown}: expected lowercase DNS labels separated by dots (e.g. apps.example.com)`;
  if (e.schemaPath.includes('bootstrapServers')) return `invalid bootstrap server ${shown}: expected host or host:port`;
  if ((e.params as { pattern: string }).pattern === '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') {
    return `invalid name ${shown}: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`;
  }
  return `invalid value ${shown}: must match ${(e.params as { pattern: string }).pattern}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

interface SemanticError {
  path: PathSegment[];
  message: string;
}

/** Cross-field rules that JSON Schema cannot express. */
export function semanticErrors(mesh: ServerlessMesh): SemanticError[] {
  const s = mesh.spec;
  const out: SemanticError[] = [];
  const reserved = new Set<string>([...KNATIVE_SYSTEM_NAMESPACES, s.mesh.namespace]);
  const owner = new Map<string, number>();
  const tenantNames = new Map<string, number>();

  s.tenants.forEach((t, ti) => {
    const prev = tenantNames.get(t.name);
    if (prev !== undefined) {
      out.push({ path: ['spec', 'tenants', ti, 'name'], message: `duplicate tenant name "${t.name}" (also spec.tenants[${prev}])` });
    } else tenantNames.set(t.name, ti);
    t.namespaces.forEach((ns, ni) => {
      const path = ['spec', 'tenants', ti, 'namespaces', ni];
      if (reserved.has(ns)) {
        out.push({ path, message: `namespace "${ns}" is a Knative or mesh system namespace and cannot belong to a tenant` });
        return;
      }
      const o = owner.get(ns);
      if (o !== undefined && o !== ti) {
        out.push({ path, message: `namespace "${ns}" already belongs to tenant "${s.tenants[o]?.name}" (spec.tenants[${o}])` });
      } else owner.set(ns, ti);
    });
  });
  s.members.forEach((ns, i) => {
    const path = ['spec', 'members', i];
    if (reserved.has(ns))
      out.push({ path, message: `namespace "${ns}" is a Knative or mesh system namespace; it is added to the mesh already` });
    else if (owner.has(ns))
      out.push({
        path,
        message: `namespace "${ns}" already belongs to tenant "${s.tenants[owner.get(ns) as number]?.name}"; list it once`,
      });
  });
  if (s.domain) {
    const long = s.domain.split('.').find((l) => l.length > 63);
    if (long)
      out.push({ path: ['spec', 'domain'], message: `DNS label "${long.slice(0, 20)}…" is ${long.length} characters long: at most 63` });
    // X.509 (RFC 5280 ub-common-name) allows 64 characters in the CN `*.<domain>`.
    else if (s.tls.generate && s.domain.length > 62) {
      out.push({
        path: ['spec', 'domain'],
        message: `domain is ${s.domain.length} characters long: a generated certificate's CN "*.<domain>" allows at most 62 (X.509: 64)`,
      });
    }
  }
  s.kafka?.bootstrapServers.forEach((b, i) => {
    const { port } = splitHostPort(b);
    if (port < 1 || port > 65535)
      out.push({ path: ['spec', 'kafka', 'bootstrapServers', i], message: `port ${port} of "${b}" is out of range 1-65535` });
  });
  if (s.tls.generate && !s.domain) {
    out.push({ path: ['spec', 'tls', 'generate'], message: 'generating a wildcard certificate needs spec.domain' });
  }
  if (s.ingress === 'kourier' && s.tenants.length > 0) {
    out.push({
      path: ['spec', 'tenants'],
      message: 'tenant isolation needs ingress: istio (with Kourier the Knative data path is outside the mesh)',
    });
  }
  const profile = profileFor(s.mesh.flavor);
  const versionProblem = s.mesh.version === undefined ? undefined : profile.versionProblem(s.mesh.version);
  if (versionProblem) out.push({ path: ['spec', 'mesh', 'version'], message: versionProblem });
  if (s.ingress === 'kourier' && !profile.kourier) {
    out.push({
      path: ['spec', 'ingress'],
      message: `ingress: kourier is supported with flavor ossm2 only (${profile.title} runs Knative's own gateway)`,
    });
  }
  if (s.kafka?.enabled && !s.eventing.enabled) {
    out.push({ path: ['spec', 'kafka'], message: 'Knative Kafka needs eventing.enabled: true' });
  }
  return out;
}
