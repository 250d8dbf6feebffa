// Validators for specs that never pass the API server (annotation values translated into a spec).
//
// Each validator is compiled once, lazily, from the same source the CRD is generated from, and checks
// what the API server would: the structural schema (ajv, with unknown fields refused as `kubectl apply`'s
// strict field validation does, and defaults applied), then the CEL rules' JavaScript twins and the
// uniqueness of list-map keys and set items. Transition rules (oldSelf) need the old object and are left to
// the API server.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { SchemaNode } from './schema.ts';
import type { KindSource } from './sources/common.ts';

/** One problem, with the field path written the way the API server writes it (`spec.listeners[0].port`). */
export interface FieldError {
  path: string;
  message: string;
}

export type ValidationResult<T> =
  | { ok: true; /** A copy of the input with schema defaults applied. */ value: T }
  | { ok: false; errors: FieldError[] };

export type SpecValidator<T> = (spec: unknown) => ValidationResult<T>;

/** `spec.a: msg; spec.b: msg` — for Events and conditions. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

type AjvSchema = { [key: string]: unknown };

/** The ajv view of a node: structural keywords only; objects closed (additionalProperties: false). */
export function toAjvSchema(node: SchemaNode): AjvSchema {
  const out: AjvSchema = {};
  if (node['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  else if (node.type) out.type = node.type;
  for (const k of [
    'enum',
    'default',
    'minimum',
    'maximum',
    'minLength',
    'maxLength',
    'pattern',
    'minItems',
    'maxItems',
    'minProperties',
    'maxProperties',
    'format',
    'required',
  ] as const) {
    if (node[k] !== undefined) out[k] = structuredClone(node[k]);
  }
  if (node.items) out.items = toAjvSchema(node.items);
  if (node.properties) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toAjvSchema(v)]));
    if (!node.additionalProperties) out.additionalProperties = false;
  }
  if (node.additionalProperties) out.additionalProperties = toAjvSchema(node.additionalProperties);
  return out;
}

let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  if (!ajvInstance) {
    ajvInstance = new Ajv({ allErrors: true, useDefaults: true, allowUnionTypes: true, strict: true, verbose: true });
    ajvInstance.addFormat('date-time', /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/);
  }
  return ajvInstance;
}

type Seg = string | number;

/**
 * Walks a JSON pointer alongside the schema so array indexes are told from map keys that look like numbers
 * (`spec.tags.2024` vs `spec.listeners[0]`); map keys are written like fields, as the API server does.
 */
function pointerSegs(root: SchemaNode, pointer: string): { segs: Seg[]; node: SchemaNode | undefined } {
  const segs: Seg[] = [];
  let node: SchemaNode | undefined = root;
  if (!pointer) return { segs, node };
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node?.type === 'array') {
      segs.push(Number(seg));
      node = node.items;
    } else if (node?.properties && seg in node.properties) {
      segs.push(seg);
      node = node.properties[seg];
    } else if (node?.additionalProperties) {
      segs.push(seg);
      node = node.additionalProperties;
    } else {
      segs.push(seg);
      node = undefined;
    }
  }
  return { segs, node };
}

function pathOf(base: string, segs: readonly Seg[]): string {
  let s = base;
  for (const seg of segs) {
    s += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
  }
  return s;
}

function describeValue(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function ajvError(root: SchemaNode, base: string, e: ErrorObject): FieldError {
  const { segs } = pointerSegs(root, e.instancePath);
  const path = pathOf(base, segs);
  switch (e.keyword) {
    case 'required':
      return { path: `${path}.${(e.params as { missingProperty: string }).missingProperty}`, message: 'Required value' };
    case 'additionalProperties':
      return {
        path: `${path}.${(e.params as { additionalProperty: string }).additionalProperty}`,
        message: 'unknown field (not declared in the schema)',
      };
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(describeValue).join(', ');
      return { path, message: `Unsupported value: ${describeValue(e.data)}: supported values: ${allowed}` };
    }
    case 'type':
      return {
        path,
        message: `must be of type ${String((e.params as { type: unknown }).type).replace(',', ' or ')}: ${describeValue(e.data)}`,
      };
    default: {
      // Worded like the API server's OpenAPI validation, so one expectation fits both.
      const limit = (e.params as { limit?: number }).limit;
      const words: Record<string, string> = {
        minimum: `should be greater than or equal to ${limit}`,
        maximum: `should be less than or equal to ${limit}`,
        minLength: `should be at least ${limit} chars long`,
        maxLength: `Too long: may not be more than ${limit} bytes`,
        minItems: `should have at least ${limit} items`,
        maxItems: `Too many: must have at most ${limit} items`,
        minProperties: `should have at least ${limit} properties`,
        maxProperties: `Too many: must have at most ${limit} properties`,
        pattern: `should match '${(e.params as { pattern?: string }).pattern}'`,
      };
      return { path, message: words[e.keyword] ?? e.message ?? e.keyword };
    }
  }
}

/** Runs the CEL twins and list-key uniqueness over a value that already passed the structural schema. */
function checkRules(node: SchemaNode, value: unknown, base: string, segs: Seg[], errors: FieldError[]): void {
  for (const r of node.rules ?? []) {
    if (!r.check) continue; // transition rule
    let ok: boolean;
    try {
      ok = r.check(value);
    } catch {
      ok = false;
    }
    if (!ok) {
      const extra = r.fieldPath ? r.fieldPath.split('.').filter(Boolean) : [];
      errors.push({ path: pathOf(base, [...segs, ...extra]), message: r.message });
    }
  }
  if (Array.isArray(value) && node.items) {
    const listType = node['x-kubernetes-list-type'];
    const keys = node['x-kubernetes-list-map-keys'];
    if (listType === 'set' || listType === 'map') {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        // Worded as the API server does: `Duplicate value: {"port":80}` or `Duplicate value: "sg-1"`.
        const key =
          listType === 'map' && keys
            ? describeValue(Object.fromEntries(keys.map((k) => [k, (item as Record<string, unknown>)[k]])))
            : describeValue(item);
        if (seen.has(key)) errors.push({ path: pathOf(base, [...segs, i]), message: `Duplicate value: ${key}` });
        seen.add(key);
      });
    }
    value.forEach((item, i) => checkRules(node.items as SchemaNode, item, base, [...segs, i], errors));
    return;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = node.properties?.[k];
      if (child) checkRules(child, v, base, [...segs, k], errors);
      else if (node.additionalProperties) checkRules(node.additionalProperties, v, base, [...segs, k], errors);
    }
  }
}

/**
 * A validator for `spec` of the given kind. The schema is compiled on first use. Paths in errors start
 * with `spec.`, as in the API server's messages.
 */
export function createSpecValidator<T>(source: Pick<KindSource, 'kind' | 'spec'>): SpecValidator<T> {
  let compiled: ValidateFunction | undefined;
  return (spec: unknown): ValidationResult<T> => {
    compiled ??= ajv().compile(toAjvSchema(source.spec));
    if (spec === undefined || spec === null) return { ok: false, errors: [{ path: 'spec', message: 'Required value' }] };
    const value = structuredClone(spec);
    if (!compiled(value)) {
      return { ok: false, errors: (compiled.errors ?? []).map((e) => ajvError(source.spec, 'spec', e)) };
    }
    const errors: FieldError[] = [];
    checkRules(source.spec, value, 'spec', [], errors);
    return errors.length ? { ok: false, errors } : { ok: true, value: value as T };
  };
}
