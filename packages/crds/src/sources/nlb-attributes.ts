// The attributes AWS documents for a Network Load Balancer and for its target groups, with the values
// each takes. One table feeds three places, so they cannot disagree: the CEL rules of the CRD (a
// NetworkLoadBalancer applied by hand), their JavaScript twins (the validators), and `checkAttributes`,
// which the lb-operator's translator uses to name the annotation and the key at fault. An unknown key is
// refused here rather than by ModifyLoadBalancerAttributes, which AWS only accepts once the load balancer
// exists — too late to refuse without leaving a half-built NLB behind.
import { map, rule, str } from '../schema.ts';
import type { RuleDef, SchemaNode } from '../schema.ts';

/** What one attribute's value may be (AWS takes every value as a string). */
export type AttributeValue =
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  /** A whole number in [min, max]; `off` too when `off` is set. */
  | { kind: 'integer'; min: number; max: number; off?: boolean }
  | { kind: 'text'; pattern?: string; maxLength: number; hint: string };

export type AttributeTable = Readonly<Record<string, AttributeValue>>;

const bool = { kind: 'boolean' } as const;
const S3_BUCKET = '^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$';

/** Load balancer attributes of a Network Load Balancer (ModifyLoadBalancerAttributes). */
export const NLB_ATTRIBUTES: AttributeTable = {
  'deletion_protection.enabled': bool,
  'load_balancing.cross_zone.enabled': bool,
  'access_logs.s3.enabled': bool,
  'access_logs.s3.bucket': { kind: 'text', pattern: S3_BUCKET, maxLength: 63, hint: 'an S3 bucket name' },
  'access_logs.s3.prefix': { kind: 'text', maxLength: 1024, hint: 'an S3 key prefix' },
  'ipv6.deny_all_igw_traffic': bool,
  'dns_record.client_routing_policy': {
    kind: 'enum',
    values: ['availability_zone_affinity', 'partial_availability_zone_affinity', 'any_availability_zone'],
  },
  'zonal_shift.config.enabled': bool,
  'secondary_ips.auto_assigned.per_subnet': { kind: 'integer', min: 0, max: 7 },
};

/** Target group attributes AWS documents for a Network Load Balancer's target groups (ModifyTargetGroupAttributes). */
export const NLB_TARGET_GROUP_ATTRIBUTES: AttributeTable = {
  'deregistration_delay.timeout_seconds': { kind: 'integer', min: 0, max: 3600 },
  'deregistration_delay.connection_termination.enabled': bool,
  'preserve_client_ip.enabled': bool,
  'proxy_protocol_v2.enabled': bool,
  'stickiness.enabled': bool,
  'stickiness.type': { kind: 'enum', values: ['source_ip'] },
  'load_balancing.cross_zone.enabled': { kind: 'enum', values: ['true', 'false', 'use_load_balancer_configuration'] },
  'target_group_health.dns_failover.minimum_healthy_targets.count': { kind: 'integer', min: 1, max: 5000, off: true },
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': { kind: 'integer', min: 1, max: 100, off: true },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': { kind: 'integer', min: 1, max: 5000 },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': { kind: 'integer', min: 1, max: 100, off: true },
  'target_health_state.unhealthy.connection_termination.enabled': bool,
  'target_health_state.unhealthy.draining_interval_seconds': { kind: 'integer', min: 0, max: 360000 },
};

/** `true or false`, `one of a, b`, … — the same words in the CRD's messages and the translator's. */
export function describeAttributeValue(v: AttributeValue): string {
  switch (v.kind) {
    case 'boolean':
      return '"true" or "false"';
    case 'enum':
      return `one of ${v.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'integer':
      return `a whole number from ${v.min} to ${v.max}${v.off ? ' or "off"' : ''}`;
    case 'text':
      return `${v.hint} of at most ${v.maxLength} characters`;
  }
}

const DIGITS = /^[0-9]{1,9}$/;

/** The JavaScript side of one value check (also the twin of its CEL rule). */
export function attributeValueOk(v: AttributeValue, value: string): boolean {
  switch (v.kind) {
    case 'boolean':
      return value === 'true' || value === 'false';
    case 'enum':
      return v.values.includes(value);
    case 'integer':
      return (v.off === true && value === 'off') || (DIGITS.test(value) && Number(value) >= v.min && Number(value) <= v.max);
    case 'text':
      return value.length <= v.maxLength && (v.pattern === undefined || new RegExp(v.pattern).test(value));
  }
}

const celString = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** The CEL condition on `self[key]` for one value (inside a rule that first checks the key is present). */
function celValue(key: string, v: AttributeValue): string {
  const x = `self[${celString(key)}]`;
  switch (v.kind) {
    case 'boolean':
      return `${x} in ['true', 'false']`;
    case 'enum':
      return `${x} in [${v.values.map(celString).join(', ')}]`;
    case 'integer': {
      const num = `(${x}.matches('^[0-9]{1,9}$') && int(${x}) >= ${v.min} && int(${x}) <= ${v.max})`;
      return v.off ? `(${x} == 'off' || ${num})` : num;
    }
    case 'text':
      return v.pattern ? `(size(${x}) <= ${v.maxLength} && ${x}.matches(${celString(v.pattern)}))` : `size(${x}) <= ${v.maxLength}`;
  }
}

/** One problem with one attribute. */
export interface AttributeProblem {
  key: string;
  message: string;
}

/** Every unknown key and every bad value in `attrs`, each naming its key. */
export function checkAttributes(table: AttributeTable, attrs: Readonly<Record<string, string>>, what: string): AttributeProblem[] {
  const out: AttributeProblem[] = [];
  for (const [key, value] of Object.entries(attrs)) {
    const v = table[key];
    if (!v) {
      out.push({ key, message: `unknown ${what} attribute ${JSON.stringify(key)}; known: ${Object.keys(table).join(', ')}` });
      continue;
    }
    if (!attributeValueOk(v, value)) out.push({ key, message: `${key}=${JSON.stringify(value)}: must be ${describeAttributeValue(v)}` });
  }
  return out;
}

/** The CEL rules (with their twins) that hold a map of attributes to `table`. */
function attributeRules(table: AttributeTable, what: string): RuleDef[] {
  const keys = Object.keys(table);
  const rules: RuleDef[] = [
    rule(
      `self.all(k, k in [${keys.map(celString).join(', ')}])`,
      `unknown ${what} attribute; the keys AWS documents are ${keys.join(', ')}`,
      (self: Record<string, string>) => Object.keys(self).every((k) => keys.includes(k)),
    ),
  ];
  for (const [key, v] of Object.entries(table)) {
    rules.push(
      rule(`!(${celString(key)} in self) || ${celValue(key, v)}`, `${key} must be ${describeAttributeValue(v)}`, (self: Record<string, string>) =>
        !Object.hasOwn(self, key) ? true : attributeValueOk(v, self[key] as string),
      ),
    );
  }
  return rules;
}

/** A map of attributes held to `table` by the API server (CEL) and by the validators (twins). */
export function knownAttributeMap(description: string, table: AttributeTable, what: string): SchemaNode {
  return map(description, str('Attribute value, as a string (for example "true" or "60").', { maxLength: 1024 }), {
    maxProperties: 32,
    rules: attributeRules(table, what),
  });
}
