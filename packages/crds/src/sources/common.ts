// Schema pieces more than one kind uses, and the shape of a kind's source.
import { isIP } from 'node:net';
import { arr, int, map, obj, rule, str } from '../schema.ts';
import type { SchemaNode } from '../schema.ts';

export type Scope = 'Cluster' | 'Namespaced';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
  format?: string;
}

/** Everything the generator needs to know about one kind; one module per kind under src/sources. */
export interface KindSource {
  group: string;
  /** Each kind has its own version so each operator can move to a new one on its own schedule. */
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: Scope;
  categories: string[];
  /** Becomes the root description (`kubectl explain <kind>`). */
  description: string;
  spec: SchemaNode;
  status: SchemaNode;
  printerColumns: PrinterColumn[];
  /** Fields usable in `--field-selector` (and by informers to cut traffic). */
  selectableFields?: string[];
  /** Which operator owns the kind (label on the CRD). */
  component: string;
}

/** Category shared by every kube-iaas kind: `kubectl get kube-iaas`. */
export const CATEGORY = 'kube-iaas';

// ---------------------------------------------------------------------------------------------------
// Names and identifiers

export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const AZ_PATTERN = '^[a-z]{2}(-[a-z0-9]+)+[a-z]$';
const AWS_ID = (prefix: string) => `^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`;
export const INSTANCE_ID = AWS_ID('i');
export const SUBNET_ID = AWS_ID('subnet');
export const SECURITY_GROUP_ID = AWS_ID('sg');
export const VOLUME_ID = AWS_ID('vol');
export const ENI_ID = AWS_ID('eni');
export const INSTANCE_TYPE = '^[a-z][a-z0-9-]*\\.[a-z0-9-]+$';
/** An ARN in any partition (aws, aws-cn, aws-us-gov, iso). */
export const ARN_PATTERN = '^arn:aws(-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+$';

export const objectName = (what: string) =>
  str(`Name of the ${what}.`, { minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN });

export const dnsLabelName = (what: string) => str(`Name of the ${what}.`, { minLength: 1, maxLength: 63, pattern: DNS_LABEL });

export const port = (description: string) => int(description, { minimum: 1, maximum: 65535 });

// ---------------------------------------------------------------------------------------------------
// CIDRs: CEL's isCIDR() on the API server, node:net in the validators.

export function isCidr(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
  if (!m?.[1] || !m[2]) return false;
  const family = isIP(m[1]);
  const bits = Number(m[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

export function cidrList(description: string, maxItems: number): SchemaNode {
  return arr(
    description,
    str('An IPv4 or IPv6 CIDR block, e.g. 10.0.0.0/16 or 2001:db8::/32.', {
      maxLength: 64,
      rules: [rule('isCIDR(self)', 'must be a CIDR block such as 10.0.0.0/16', (self) => isCidr(self))],
    }),
    { maxItems, listType: 'set' },
  );
}

// ---------------------------------------------------------------------------------------------------
// AWS tags supplied by users. Prefixes reserved for AWS itself and for the ownership tags `core` writes
// (cluster, owner, per-kind extras) are refused, so a user can never forge or overwrite ownership.

export const RESERVED_TAG_PREFIXES = ['aws:', 'kubernetes.io/', 'kube-iaas.dev/', 'k8s.io/'] as const;
export const RESERVED_TAG_KEYS = ['KubernetesCluster'] as const;

function tagKeyAllowed(k: string): boolean {
  return (
    k.length >= 1 &&
    k.length <= 128 &&
    !RESERVED_TAG_PREFIXES.some((p) => k.startsWith(p)) &&
    !(RESERVED_TAG_KEYS as readonly string[]).includes(k)
  );
}

export function awsTags(description: string): SchemaNode {
  const celPrefixes = RESERVED_TAG_PREFIXES.map((p) => `k.startsWith('${p}')`).join(' || ');
  const celKeys = RESERVED_TAG_KEYS.map((k) => `k == '${k}'`).join(' || ');
  return map(`${description} At most 50; keys of 1-128 characters, values up to 256.`, str('Tag value.', { maxLength: 256 }), {
    maxProperties: 50,
    rules: [
      rule(
        `self.all(k, size(k) >= 1 && size(k) <= 128 && !(${celPrefixes} || ${celKeys}))`,
        `tag keys must be 1-128 characters and must not use the reserved prefixes ${RESERVED_TAG_PREFIXES.join(', ')} or the key ${RESERVED_TAG_KEYS.join(', ')} (those tags are written by kube-iaas itself)`,
        (self: Record<string, string>) => Object.keys(self).every(tagKeyAllowed),
      ),
    ],
  });
}

/** AWS attribute maps (load balancer and target group attributes): `key: value`, both strings. */
export function attributeMap(description: string): SchemaNode {
  return map(description, str('Attribute value, as a string (for example "true" or "60").', { maxLength: 1024 }), {
    maxProperties: 32,
    rules: [
      rule(
        "self.all(k, k.matches('^[a-z0-9_.-]{1,256}$'))",
        'attribute keys are lower-case AWS attribute names such as deletion_protection.enabled',
        (self: Record<string, string>) => Object.keys(self).every((k) => /^[a-z0-9_.-]{1,256}$/.test(k)),
      ),
    ],
  });
}

// ---------------------------------------------------------------------------------------------------
// Status pieces every kind has.

export const condition: SchemaNode = obj(
  'One aspect of the resource\'s state, in the shape of metav1.Condition. kube-iaas operators write at least "Ready" (the AWS resources exist and serve the spec) and "Synced" (the last reconcile of the current generation succeeded).',
  {
    type: str('Type of the condition in CamelCase, e.g. Ready or Synced.', {
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: str('Whether the condition holds: True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    observedGeneration: int('The metadata.generation the condition was computed from.', { minimum: 0 }),
    lastTransitionTime: str('When the condition last changed status (RFC 3339).', { format: 'date-time' }),
    reason: str('Machine-readable CamelCase reason for the last transition, e.g. Reconciled or AwsThrottled.', {
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: str('Human-readable details; for AWS errors, the AWS error code and message.', { maxLength: 32768 }),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'], tsName: 'Condition' },
);

export function statusCommon(): Record<string, SchemaNode> {
  return {
    observedGeneration: int('The metadata.generation the operator last reconciled.', { minimum: 0 }),
    conditions: arr('Current conditions (Ready, Synced, and kind-specific ones), one per type.', condition, {
      maxItems: 16,
      listType: 'map',
      mapKeys: ['type'],
    }),
  };
}

export const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the AWS resources exist and serve the spec.',
};

export const reasonColumn: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Reason of the Ready condition.',
  priority: 1,
};

export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the resource was created.',
};

/** `has(self.x)` for the JavaScript twins of CEL rules. */
export function has(o: unknown, key: string): boolean {
  return typeof o === 'object' && o !== null && (o as Record<string, unknown>)[key] !== undefined;
}
