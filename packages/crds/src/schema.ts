// A small builder for structural OpenAPI v3 schemas, the way Kubernetes wants them in a CRD.
//
// Every node carries a description (so `kubectl explain` is useful; a unit test enforces it), and
// cross-field rules are written twice, side by side: the CEL rule the API server evaluates, and a
// JavaScript `check` that the ajv-based validators evaluate on data that never reached the API server
// (annotation values translated into a spec). Shared fixtures exercise both sides, so they cannot drift.
//
// Internal fields (`tsName`, `rules`) never reach the CRD YAML: `toOpenApi` strips them.

/** What the API server reports for a failed CEL rule; Kubernetes' own enumeration. */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** One `x-kubernetes-validations` entry as written to the CRD. */
export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: RuleReason;
}

/** A CEL rule plus its JavaScript twin. */
export interface RuleDef extends ValidationRule {
  /**
   * The same predicate in JavaScript, evaluated on the (defaulted) value at this node. Absent only for
   * transition rules (they read `oldSelf`, which a validator of a single value does not have).
   */
  // The value at a node is whatever the schema says it is; rules are typed loosely on purpose.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  check?: (self: any) => boolean;
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface SchemaNode {
  description: string;
  type?: SchemaType;
  format?: string;
  enum?: readonly (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode;
  /** Kubernetes extensions, kept verbatim. */
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  /** CEL rules with their JavaScript twins; emitted as `x-kubernetes-validations`. */
  rules?: RuleDef[];
  /** Name of the generated TypeScript type for this node (objects and enums); internal. */
  tsName?: string;
}

interface Common {
  default?: unknown;
  rules?: RuleDef[];
  tsName?: string;
}

export interface StringOpts extends Common {
  enum?: readonly string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
}

export interface NumberOpts extends Common {
  minimum?: number;
  maximum?: number;
}

export interface ObjectOpts extends Common {
  required?: string[];
}

export interface ArrayOpts extends Common {
  minItems?: number;
  maxItems?: number;
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
}

export interface MapOpts extends Common {
  maxProperties?: number;
}

function common(node: SchemaNode, o: Common): SchemaNode {
  if (o.default !== undefined) node.default = o.default;
  if (o.rules?.length) node.rules = o.rules;
  if (o.tsName) node.tsName = o.tsName;
  return node;
}

export function str(description: string, o: StringOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'string' };
  if (o.format) n.format = o.format;
  if (o.enum) n.enum = o.enum;
  if (o.minLength !== undefined) n.minLength = o.minLength;
  if (o.maxLength !== undefined) n.maxLength = o.maxLength;
  if (o.pattern) n.pattern = o.pattern;
  return common(n, o);
}

export function int(description: string, o: NumberOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'integer' };
  if (o.minimum !== undefined) n.minimum = o.minimum;
  if (o.maximum !== undefined) n.maximum = o.maximum;
  return common(n, o);
}

export function num(description: string, o: NumberOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'number' };
  if (o.minimum !== undefined) n.minimum = o.minimum;
  if (o.maximum !== undefined) n.maximum = o.maximum;
  return common(n, o);
}

export function bool(description: string, o: Common = {}): SchemaNode {
  return common({ description, type: 'boolean' }, o);
}

export function obj(description: string, properties: Record<string, SchemaNode>, o: ObjectOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'object', properties };
  for (const r of o.required ?? []) {
    if (!(r in properties)) throw new Error(`required property ${r} is not declared (${description.slice(0, 40)}…)`);
  }
  if (o.required?.length) n.required = o.required;
  return common(n, o);
}

export function arr(description: string, items: SchemaNode, o: ArrayOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'array', items };
  if (o.minItems !== undefined) n.minItems = o.minItems;
  if (o.maxItems !== undefined) n.maxItems = o.maxItems;
  if (o.listType) n['x-kubernetes-list-type'] = o.listType;
  if (o.mapKeys) {
    if (o.listType !== 'map') throw new Error('mapKeys needs listType map');
    n['x-kubernetes-list-map-keys'] = o.mapKeys;
  }
  return common(n, o);
}

/** An object used as a map (`additionalProperties`), e.g. tags or labels. */
export function map(description: string, values: SchemaNode, o: MapOpts = {}): SchemaNode {
  const n: SchemaNode = { description, type: 'object', additionalProperties: values };
  if (o.maxProperties !== undefined) n.maxProperties = o.maxProperties;
  return common(n, o);
}

/** The Kubernetes resource.Quantity regular expression (as controller-gen writes it). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** A Kubernetes quantity (`2`, `500m`, `8Gi`): an int or a string, like resource requests. */
export function quantity(description: string, o: Common = {}): SchemaNode {
  return common({ description, 'x-kubernetes-int-or-string': true, pattern: QUANTITY_PATTERN }, o);
}

/** Builds a rule; `check` is the JavaScript twin of `rule`. */
export function rule(
  rule: string,
  message: string,
  check: RuleDef['check'],
  extra: { fieldPath?: string; reason?: RuleReason } = {},
): RuleDef {
  return { rule, message, check, ...extra };
}

/** A transition rule (reads `oldSelf`): enforced by the API server on updates only. */
export function transitionRule(rule: string, message: string, extra: { fieldPath?: string; reason?: RuleReason } = {}): RuleDef {
  if (!rule.includes('oldSelf')) throw new Error(`transition rule without oldSelf: ${rule}`);
  return { rule, message, ...extra };
}

/** A plain JSON value, as found in a CRD manifest. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// The order keys are written in, so the YAML reads top-down: what it is, then its constraints, then children.
const KEY_ORDER: (keyof SchemaNode)[] = [
  'description',
  'type',
  'format',
  'x-kubernetes-int-or-string',
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
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'required',
  'items',
  'properties',
  'additionalProperties',
];

/** The node as it appears in a CRD's openAPIV3Schema (internal fields stripped, rules as CEL only). */
export function toOpenApi(node: SchemaNode): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const key of KEY_ORDER) {
    const v = node[key];
    if (v === undefined) continue;
    if (key === 'items' || key === 'additionalProperties') out[key] = toOpenApi(v as SchemaNode);
    else if (key === 'properties') {
      const props: { [key: string]: Json } = {};
      for (const [name, child] of Object.entries(v as Record<string, SchemaNode>)) props[name] = toOpenApi(child);
      out[key] = props;
    } else if (key === 'x-kubernetes-int-or-string') {
      // controller-gen's shape: anyOf int|string next to the extension keeps clients that read anyOf happy.
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
      out[key] = true;
    } else out[key] = structuredClone(v) as Json;
  }
  if (node.rules?.length) {
    out['x-kubernetes-validations'] = node.rules.map((r) => {
      const v: { [key: string]: Json } = { rule: r.rule, message: r.message };
      if (r.fieldPath) v.fieldPath = r.fieldPath;
      if (r.reason) v.reason = r.reason;
      return v;
    });
  }
  return out;
}

/** Visits every node with its path (`spec.listeners[].port` style) — used by tests and generators. */
export function walkSchema(node: SchemaNode, path: string, visit: (node: SchemaNode, path: string) => void): void {
  visit(node, path);
  for (const [name, child] of Object.entries(node.properties ?? {})) walkSchema(child, path ? `${path}.${name}` : name, visit);
  if (node.items) walkSchema(node.items, `${path}[]`, visit);
  if (node.additionalProperties) walkSchema(node.additionalProperties, `${path}[*]`, visit);
}
