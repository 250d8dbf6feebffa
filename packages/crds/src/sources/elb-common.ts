// Schema pieces the NetworkLoadBalancer and ApplicationLoadBalancer kinds share: the AWS load balancer name,
// the subnet list, the target-group health check and the node security-group rules in status. The two kinds
// differ only in protocols, defaults and one timeout rule, so those are parameters here.
import { arr, int, obj, rule, str, transitionRule } from '../schema.ts';
import type { SchemaNode } from '../schema.ts';
import { has, port } from './common.ts';

/** An AWS load balancer name: 1-32 alphanumerics and hyphens, no leading/trailing hyphen, not "internal-…". */
export function loadBalancerName(): SchemaNode {
  return str(
    'Name of the load balancer in AWS (1-32 characters). Generated from the namespace, name and UID when unset. Immutable: AWS cannot rename a load balancer.',
    {
      minLength: 1,
      maxLength: 32,
      pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$',
      rules: [
        rule("!self.startsWith('internal-')", 'must not start with "internal-"', (s: string) => !s.startsWith('internal-')),
        transitionRule('self == oldSelf', 'the load balancer name is immutable'),
      ],
    },
  );
}

export function subnetList(minItems: number): SchemaNode {
  return arr(
    `Subnets to place the load balancer in, as IDs (subnet-…) or Name tag values; at most one per availability zone, at least ${minItems}. Discovered when unset: subnets tagged kubernetes.io/role/elb (internet-facing) or kubernetes.io/role/internal-elb (internal), one per zone, preferring those tagged for this cluster.`,
    str('Subnet ID or Name tag value.', { minLength: 1, maxLength: 256 }),
    { minItems, maxItems: 16, listType: 'set' },
  );
}

export interface HealthCheckDefaults {
  protocol: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  successCodes?: string;
}

export interface HealthCheckShape {
  /** Description of the whole object, with defaults (spec.healthCheck) and as per-target-group overrides. */
  description: { defaults: string; override: string };
  protocols: readonly string[];
  defaults: HealthCheckDefaults;
  portDescription: string;
  pathDescription: string;
  timeoutDescription: string;
  successCodesDescription: string;
  /** NLB: timeout may equal the interval; ALB: it must be shorter. */
  timeoutBelowInterval: boolean;
}

/** A target-group health check; `withDefaults` for spec.healthCheck, without for per-group overrides. */
export function healthCheckSchema(shape: HealthCheckShape, withDefaults: boolean, tsName: string): SchemaNode {
  const d = <T>(v: T | undefined) => (withDefaults && v !== undefined ? { default: v } : {});
  const { defaults } = shape;
  const hasTcp = shape.protocols.includes('TCP');
  const tcpOnlyForbidden = (field: 'path' | 'successCodes') =>
    rule(
      `!has(self.${field}) || !has(self.protocol) || self.protocol != 'TCP'`,
      `${field} is only allowed for HTTP and HTTPS health checks`,
      (s) => !has(s, field) || !has(s, 'protocol') || s.protocol !== 'TCP',
      { fieldPath: `.${field}`, reason: 'FieldValueForbidden' },
    );
  const timeoutRule = shape.timeoutBelowInterval
    ? rule(
        '!has(self.timeoutSeconds) || !has(self.intervalSeconds) || self.timeoutSeconds < self.intervalSeconds',
        'timeoutSeconds must be less than intervalSeconds',
        (s) => !has(s, 'timeoutSeconds') || !has(s, 'intervalSeconds') || s.timeoutSeconds < s.intervalSeconds,
        { fieldPath: '.timeoutSeconds' },
      )
    : rule(
        '!has(self.timeoutSeconds) || !has(self.intervalSeconds) || self.timeoutSeconds <= self.intervalSeconds',
        'timeoutSeconds must not exceed intervalSeconds',
        (s) => !has(s, 'timeoutSeconds') || !has(s, 'intervalSeconds') || s.timeoutSeconds <= s.intervalSeconds,
        { fieldPath: '.timeoutSeconds' },
      );
  return obj(
    withDefaults ? shape.description.defaults : shape.description.override,
    {
      protocol: str('Protocol of the health check.', { enum: [...shape.protocols], ...d(defaults.protocol) }),
      port: port(shape.portDescription),
      path: str(shape.pathDescription, { minLength: 1, maxLength: 1024, pattern: '^/', ...d(defaults.path) }),
      intervalSeconds: int('Seconds between health checks (5-300).', { minimum: 5, maximum: 300, ...d(defaults.intervalSeconds) }),
      timeoutSeconds: int(shape.timeoutDescription, { minimum: 2, maximum: 120, ...d(defaults.timeoutSeconds) }),
      healthyThreshold: int('Consecutive successes before a target is healthy (2-10).', {
        minimum: 2,
        maximum: 10,
        ...d(defaults.healthyThreshold),
      }),
      unhealthyThreshold: int('Consecutive failures before a target is unhealthy (2-10).', {
        minimum: 2,
        maximum: 10,
        ...d(defaults.unhealthyThreshold),
      }),
      successCodes: str(shape.successCodesDescription, {
        maxLength: 64,
        pattern: '^[0-9]{3}([-,][0-9]{3})*$',
        ...d(defaults.successCodes),
      }),
    },
    {
      tsName,
      rules: [...(hasTcp ? [tcpOnlyForbidden('path'), tcpOnlyForbidden('successCodes')] : []), timeoutRule],
      ...(withDefaults ? { default: {} } : {}),
    },
  );
}

/** Status: the rules the operator added to cluster-tagged node security groups. */
export function securityGroupRuleRefs(): SchemaNode {
  return arr(
    'Rules the operator added to the cluster-tagged node security group (removed on deletion).',
    obj(
      'A security group rule.',
      {
        securityGroupId: str('Security group ID.', { maxLength: 64 }),
        ruleId: str('Security group rule ID (sgr-…).', { maxLength: 64 }),
        description: str('Rule description; names the owner.', { maxLength: 255 }),
      },
      { required: ['securityGroupId', 'ruleId'], tsName: 'SecurityGroupRuleRef' },
    ),
    { maxItems: 256, listType: 'map', mapKeys: ['ruleId'] },
  );
}
