// Good and bad specs for every kind, shared by the unit tests (ajv validators + CEL twins) and the
// integration tests (the real API server), so both sides are held to the same cases.
import type {
  ApplicationLoadBalancerSpec,
  AwsVolumeSpec,
  EniPoolSpec,
  KindName,
  NetworkLoadBalancerSpec,
  NodeGroupSpec,
} from '../src/index.ts';

/** What went wrong; decides the wording both the validator and the API server must use. */
export type BadCategory = 'type' | 'required' | 'range' | 'enum' | 'cel' | 'pattern' | 'duplicate';

export interface BadCase {
  name: string;
  category: BadCategory;
  spec: unknown;
  /** The field path the error must name, as the API server writes it. */
  path: string;
  /** For CEL rules: (part of) the rule's message. */
  message?: string;
}

export interface KindFixture {
  kind: KindName;
  good: { name: string; spec: unknown }[];
  bad: BadCase[];
}

/** Wording shared by the API server and the validators, per category. */
export const CATEGORY_TEXT: Record<BadCategory, RegExp> = {
  type: /must be of type/,
  required: /Required value/,
  range: /should be (greater|less) than or equal to|Too many|should have at least/,
  enum: /Unsupported value/,
  cel: /./,
  pattern: /should match/,
  duplicate: /Duplicate value/,
};

const clone = <T>(v: T): T => structuredClone(v);
function withSpec<T extends object>(base: T, patch: Record<string, unknown>): unknown {
  const out = clone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// AwsVolume — the article's 30 GiB gp3 volume for a PVC.

export const awsVolumeGood: AwsVolumeSpec = {
  availabilityZone: 'cn-northwest-1a',
  sizeGiB: 30,
  volumeType: 'gp3',
  claimRef: { namespace: 'default', name: 'nginx-data', uid: '0b3c9a4e-1f7d-4c55-9d43-2a7f3f1e0c11' },
  tags: { team: 'storage' },
};

const awsVolume: KindFixture = {
  kind: 'AwsVolume',
  good: [
    { name: 'article gp3 volume', spec: awsVolumeGood },
    { name: 'io2 with iops', spec: { availabilityZone: 'cn-northwest-1b', sizeGiB: 100, volumeType: 'io2', iops: 64000 } },
    { name: 'gp3 at baseline iops on a small volume', spec: { availabilityZone: 'cn-northwest-1a', sizeGiB: 1, iops: 3000, throughput: 125 } },
    { name: 'import by volume ID', spec: { volumeId: 'vol-0123456789abcdef0', sizeGiB: 8 } },
    { name: 'encrypted with KMS key', spec: { availabilityZone: 'cn-northwest-1a', sizeGiB: 10, encrypted: true, kmsKeyId: 'alias/ebs' } },
  ],
  bad: [
    { name: 'sizeGiB as a string', category: 'type', spec: withSpec(awsVolumeGood, { sizeGiB: '30Gi' }), path: 'spec.sizeGiB' },
    { name: 'no sizeGiB', category: 'required', spec: withSpec(awsVolumeGood, { sizeGiB: undefined }), path: 'spec.sizeGiB' },
    { name: 'sizeGiB 0', category: 'range', spec: withSpec(awsVolumeGood, { sizeGiB: 0 }), path: 'spec.sizeGiB' },
    { name: 'unknown volume type', category: 'enum', spec: withSpec(awsVolumeGood, { volumeType: 'gp9' }), path: 'spec.volumeType' },
    {
      name: 'iops with gp2',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { volumeType: 'gp2', iops: 3000 }),
      path: 'spec.iops',
      message: 'spec.iops is only allowed for volumeType',
    },
    {
      name: 'io1 without iops',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { volumeType: 'io1' }),
      path: 'spec.iops',
      message: 'spec.iops is required for volumeType io1 and io2',
    },
    {
      name: 'io1 above 50 IOPS per GiB',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { volumeType: 'io1', sizeGiB: 10, iops: 1000 }),
      path: 'spec.iops',
      message: 'at most 50 per GiB',
    },
    {
      name: 'gp3 iops above 16000',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { sizeGiB: 100, iops: 20000 }),
      path: 'spec.iops',
      message: 'between 3000 and 16000 for volumeType gp3',
    },
    {
      name: 'st1 below 125 GiB',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { volumeType: 'st1', sizeGiB: 100 }),
      path: 'spec.sizeGiB',
      message: 'between 125 and 16384 for volumeType st1',
    },
    {
      name: 'throughput on io2',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { volumeType: 'io2', iops: 1000, throughput: 250 }),
      path: 'spec.throughput',
      message: 'only allowed for volumeType gp3',
    },
    {
      name: 'kmsKeyId without encrypted',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { kmsKeyId: 'alias/ebs' }),
      path: 'spec.kmsKeyId',
      message: 'requires spec.encrypted: true',
    },
    {
      name: 'neither zone nor volume ID',
      category: 'cel',
      spec: withSpec(awsVolumeGood, { availabilityZone: undefined }),
      path: 'spec.availabilityZone',
      message: 'required unless spec.volumeId',
    },
    { name: 'reserved tag prefix', category: 'cel', spec: withSpec(awsVolumeGood, { tags: { 'kube-iaas.dev/owner': 'x' } }), path: 'spec.tags', message: 'reserved prefixes' },
    { name: 'malformed volume ID', category: 'pattern', spec: withSpec(awsVolumeGood, { volumeId: 'vol-XYZ' }), path: 'spec.volumeId' },
    { name: 'claimRef without name', category: 'required', spec: withSpec(awsVolumeGood, { claimRef: { namespace: 'default' } }), path: 'spec.claimRef.name' },
  ],
};

// ---------------------------------------------------------------------------------------------------
// EniPool — a c5.large node.

export const eniPoolGood: EniPoolSpec = {
  instanceId: 'i-0123456789abcdef0',
  instanceType: 'c5.large',
  subnetId: 'subnet-0a1b2c3d4e5f60718',
  securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
  warmEni: 1,
  cooldownSeconds: 30,
};

const eniPool: KindFixture = {
  kind: 'EniPool',
  good: [
    { name: 'c5.large with defaults', spec: { instanceId: 'i-0123abcd', instanceType: 'c5.large' } },
    { name: 'explicit subnet and warm targets', spec: eniPoolGood },
    { name: 'warm IP targets only', spec: { ...eniPoolGood, warmEni: 0, warmIp: 5, minimumIp: 10, maxPodAddresses: 27 } },
  ],
  bad: [
    { name: 'warmEni as a string', category: 'type', spec: withSpec(eniPoolGood, { warmEni: 'one' }), path: 'spec.warmEni' },
    { name: 'no instanceType', category: 'required', spec: withSpec(eniPoolGood, { instanceType: undefined }), path: 'spec.instanceType' },
    { name: 'negative warmEni', category: 'range', spec: withSpec(eniPoolGood, { warmEni: -1 }), path: 'spec.warmEni' },
    { name: 'negative warmIp', category: 'range', spec: withSpec(eniPoolGood, { warmIp: -1 }), path: 'spec.warmIp' },
    { name: 'negative minimumIp', category: 'range', spec: withSpec(eniPoolGood, { minimumIp: -5 }), path: 'spec.minimumIp' },
    {
      name: 'warmIp above maxPodAddresses',
      category: 'cel',
      spec: withSpec(eniPoolGood, { warmIp: 30, maxPodAddresses: 27 }),
      path: 'spec.warmIp',
      message: 'spec.warmIp must not exceed spec.maxPodAddresses',
    },
    { name: 'unknown shrink policy', category: 'enum', spec: withSpec(eniPoolGood, { shrinkPolicy: 'Shrink' }), path: 'spec.shrinkPolicy' },
    { name: 'cooldown above an hour', category: 'range', spec: withSpec(eniPoolGood, { cooldownSeconds: 7200 }), path: 'spec.cooldownSeconds' },
    {
      name: 'minimumIp above maxPodAddresses',
      category: 'cel',
      spec: withSpec(eniPoolGood, { minimumIp: 40, maxPodAddresses: 27 }),
      path: 'spec.minimumIp',
      message: 'spec.minimumIp must not exceed spec.maxPodAddresses',
    },
    {
      name: 'all warm targets zero',
      category: 'cel',
      spec: withSpec(eniPoolGood, { warmEni: 0 }),
      path: 'spec.warmEni',
      message: 'never holds a free address',
    },
    { name: 'malformed instance ID', category: 'pattern', spec: withSpec(eniPoolGood, { instanceId: 'node-1' }), path: 'spec.instanceId' },
    {
      name: 'duplicate security group',
      category: 'duplicate',
      spec: withSpec(eniPoolGood, { securityGroupIds: ['sg-0a1b2c3d4e5f60718', 'sg-0a1b2c3d4e5f60718'] }),
      path: 'spec.securityGroupIds[1]',
    },
  ],
};

// ---------------------------------------------------------------------------------------------------
// NetworkLoadBalancer — the article's kubernetes-bootcamp-v1 Service on 8080.

export const nlbGood: NetworkLoadBalancerSpec = {
  serviceRef: { name: 'kubernetes-bootcamp-v1' },
  scheme: 'internet-facing',
  ipAddressType: 'ipv4',
  listeners: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 30080 }],
  healthCheck: { protocol: 'TCP', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
  attributes: { 'load_balancing.cross_zone.enabled': 'true', 'dns_record.client_routing_policy': 'availability_zone_affinity' },
  targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30', 'proxy_protocol_v2.enabled': 'false', 'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off' },
  sourceRanges: ['0.0.0.0/0'],
  additionalTags: { team: 'web' },
};

const tlsListener = {
  port: 443,
  protocol: 'TLS',
  targetPort: 30443,
  certificateArns: ['arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/0b3c9a4e-1f7d-4c55-9d43-2a7f3f1e0c11'],
  sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
};

const nlb: KindFixture = {
  kind: 'NetworkLoadBalancer',
  good: [
    { name: 'article Service', spec: nlbGood },
    { name: 'minimal, NodePorts from the Service', spec: { serviceRef: { name: 'web' }, listeners: [{ port: 80 }] } },
    {
      name: 'by hand with instances, TLS and TCP_UDP',
      spec: {
        scheme: 'internal',
        subnets: ['subnet-0a1b2c3d4e5f60718', 'private-b'],
        listeners: [tlsListener, { port: 53, protocol: 'TCP_UDP', targetPort: 30053 }],
        targets: { instanceIds: ['i-0123456789abcdef0'] },
        healthCheck: { protocol: 'HTTP', path: '/healthz', successCodes: '200-399' },
      },
    },
  ],
  bad: [
    { name: 'port as a string', category: 'type', spec: withSpec(nlbGood, { listeners: [{ port: '8080', targetPort: 30080 }] }), path: 'spec.listeners[0].port' },
    { name: 'no listeners', category: 'required', spec: withSpec(nlbGood, { listeners: undefined }), path: 'spec.listeners' },
    { name: 'port 70000', category: 'range', spec: withSpec(nlbGood, { listeners: [{ port: 70000, targetPort: 30080 }] }), path: 'spec.listeners[0].port' },
    { name: 'HTTP listener', category: 'enum', spec: withSpec(nlbGood, { listeners: [{ port: 80, protocol: 'HTTP', targetPort: 30080 }] }), path: 'spec.listeners[0].protocol' },
    { name: 'unknown scheme', category: 'enum', spec: withSpec(nlbGood, { scheme: 'public' }), path: 'spec.scheme' },
    {
      name: 'TLS listener without certificate',
      category: 'cel',
      spec: withSpec(nlbGood, { listeners: [{ port: 443, protocol: 'TLS', targetPort: 30443 }] }),
      path: 'spec.listeners[0].certificateArns',
      message: 'certificateArns is required for a TLS listener',
    },
    {
      name: 'targetPort missing without serviceRef',
      category: 'cel',
      spec: withSpec(nlbGood, { serviceRef: undefined, listeners: [{ port: 8080 }] }),
      path: 'spec.listeners',
      message: 'targetPort is required on every listener when spec.serviceRef is not set',
    },
    {
      name: 'health check timeout above interval',
      category: 'cel',
      spec: withSpec(nlbGood, { healthCheck: { intervalSeconds: 10, timeoutSeconds: 20 } }),
      path: 'spec.healthCheck.timeoutSeconds',
      message: 'timeoutSeconds must not exceed intervalSeconds',
    },
    {
      name: 'UDP listener with TCP targets',
      category: 'cel',
      spec: withSpec(nlbGood, { listeners: [{ port: 53, protocol: 'UDP', targetProtocol: 'TCP', targetPort: 30053 }] }),
      path: 'spec.listeners[0].targetProtocol',
      message: 'targetProtocol must equal protocol',
    },
    {
      name: 'nodeSelector and instanceIds',
      category: 'cel',
      spec: withSpec(nlbGood, { targets: { nodeSelector: { pool: 'web' }, instanceIds: ['i-0123abcd'] } }),
      path: 'spec.targets.instanceIds',
      message: 'mutually exclusive',
    },
    { name: 'source range not a CIDR', category: 'cel', spec: withSpec(nlbGood, { sourceRanges: ['10.0.0.0/8', '10.0.0.300/8'] }), path: 'spec.sourceRanges[1]', message: 'must be a CIDR block' },
    {
      name: 'two listeners on one port',
      category: 'duplicate',
      spec: withSpec(nlbGood, { listeners: [{ port: 8080, targetPort: 30080 }, { port: 8080, protocol: 'UDP', targetPort: 30081 }] }),
      path: 'spec.listeners[1]',
    },
    { name: 'name starting with internal-', category: 'cel', spec: withSpec(nlbGood, { loadBalancerName: 'internal-web' }), path: 'spec.loadBalancerName', message: 'must not start with "internal-"' },
    { name: 'unknown load balancer attribute', category: 'cel', spec: withSpec(nlbGood, { attributes: { a: 'b=c' } }), path: 'spec.attributes', message: 'unknown Network Load Balancer attribute' },
    {
      name: 'ALB-only attribute on an NLB',
      category: 'cel',
      spec: withSpec(nlbGood, { attributes: { 'idle_timeout.timeout_seconds': '60' } }),
      path: 'spec.attributes',
      message: 'unknown Network Load Balancer attribute',
    },
    {
      name: 'boolean attribute not true or false',
      category: 'cel',
      spec: withSpec(nlbGood, { attributes: { 'deletion_protection.enabled': 'yes' } }),
      path: 'spec.attributes',
      message: 'deletion_protection.enabled must be "true" or "false"',
    },
    {
      name: 'routing policy not one AWS knows',
      category: 'cel',
      spec: withSpec(nlbGood, { attributes: { 'dns_record.client_routing_policy': 'nearest' } }),
      path: 'spec.attributes',
      message: 'dns_record.client_routing_policy must be one of',
    },
    {
      name: 'unknown target group attribute',
      category: 'cel',
      spec: withSpec(nlbGood, { targetGroupAttributes: { 'slow_start.duration_seconds': '30' } }),
      path: 'spec.targetGroupAttributes',
      message: 'unknown target group attribute',
    },
    {
      name: 'deregistration delay out of range',
      category: 'cel',
      spec: withSpec(nlbGood, { targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '3601' } }),
      path: 'spec.targetGroupAttributes',
      message: 'deregistration_delay.timeout_seconds must be a whole number from 0 to 3600',
    },
  ],
};

// ---------------------------------------------------------------------------------------------------
// ApplicationLoadBalancer — the article's Ingress: test.int32bit.me, /v1 and /v2, listener 18080.

export const albGood: ApplicationLoadBalancerSpec = {
  ingresses: [{ name: 'bootcamp', order: 0 }],
  scheme: 'internet-facing',
  listeners: [{ port: 18080, protocol: 'HTTP' }],
  rules: [
    {
      listenerPort: 18080,
      priority: 1,
      ingressName: 'bootcamp',
      hosts: ['test.int32bit.me'],
      paths: ['/v1', '/v1/*'],
      action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v1-8080', weight: 1 }] } },
    },
    {
      listenerPort: 18080,
      priority: 2,
      ingressName: 'bootcamp',
      hosts: ['test.int32bit.me'],
      paths: ['/v2', '/v2/*'],
      action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v2-8080' }] } },
    },
  ],
  targetGroups: [
    { name: 'kubernetes-bootcamp-v1-8080', serviceRef: { name: 'kubernetes-bootcamp-v1', port: 8080 }, targetPort: 30081 },
    { name: 'kubernetes-bootcamp-v2-8080', serviceRef: { name: 'kubernetes-bootcamp-v2', port: 8080 }, targetPort: 30082 },
  ],
};

const alb: KindFixture = {
  kind: 'ApplicationLoadBalancer',
  good: [
    { name: 'article Ingress', spec: albGood },
    {
      name: 'HTTPS with redirect and fixed response default',
      spec: {
        listeners: [
          { port: 80, protocol: 'HTTP' },
          {
            port: 443,
            protocol: 'HTTPS',
            certificateArns: ['arn:aws:acm:us-east-1:123456789012:certificate/abc'],
            defaultAction: { type: 'fixed-response', fixedResponse: { statusCode: 404, contentType: 'text/plain' } },
          },
        ],
        sslRedirectPort: 443,
        rules: [
          {
            listenerPort: 443,
            priority: 10,
            paths: ['/old/*'],
            action: { type: 'redirect', redirect: { path: '/new', statusCode: 'HTTP_301' } },
          },
        ],
      },
    },
  ],
  bad: [
    { name: 'priority as a string', category: 'type', spec: withSpec(albGood, { rules: [{ ...albGood.rules?.[0], priority: 'first' }] }), path: 'spec.rules[0].priority' },
    { name: 'no listeners', category: 'required', spec: withSpec(albGood, { listeners: undefined }), path: 'spec.listeners' },
    { name: 'priority 0', category: 'range', spec: withSpec(albGood, { rules: [{ ...albGood.rules?.[0], priority: 0 }] }), path: 'spec.rules[0].priority' },
    { name: 'TCP listener', category: 'enum', spec: withSpec(albGood, { listeners: [{ port: 18080, protocol: 'TCP' }] }), path: 'spec.listeners[0].protocol' },
    {
      name: 'forward to an undeclared target group',
      category: 'cel',
      spec: withSpec(albGood, { targetGroups: [albGood.targetGroups?.[0]] }),
      path: 'spec.rules',
      message: 'must name an entry of spec.targetGroups',
    },
    {
      name: 'rule on a port with no listener',
      category: 'cel',
      spec: withSpec(albGood, { listeners: [{ port: 80 }] }),
      path: 'spec.rules',
      message: 'listenerPort must be the port of an entry in spec.listeners',
    },
    {
      name: 'redirect action without redirect',
      category: 'cel',
      spec: withSpec(albGood, { rules: [{ ...albGood.rules?.[0], action: { type: 'redirect' } }] }),
      path: 'spec.rules[0].action.redirect',
      message: 'redirect must be set exactly when type is redirect',
    },
    {
      name: 'target type ip',
      category: 'cel',
      spec: withSpec(albGood, { targetGroups: [{ ...albGood.targetGroups?.[0], targetType: 'ip' }, albGood.targetGroups?.[1]] }),
      path: 'spec.targetGroups[0].targetType',
      message: 'targetType ip is not supported yet',
    },
    {
      name: 'HTTPS without certificate',
      category: 'cel',
      spec: withSpec(albGood, { listeners: [{ port: 18080, protocol: 'HTTPS' }] }),
      path: 'spec.listeners[0].certificateArns',
      message: 'certificateArns is required for an HTTPS listener',
    },
    {
      name: 'six condition values',
      category: 'cel',
      spec: withSpec(albGood, { rules: [{ ...albGood.rules?.[0], hosts: ['a.example.com', 'b.example.com'], paths: ['/a', '/b', '/c', '/d'] }] }),
      path: 'spec.rules[0].paths',
      message: 'at most 5 values',
    },
    {
      name: 'sslRedirectPort with no HTTPS listener',
      category: 'cel',
      spec: withSpec(albGood, { sslRedirectPort: 443 }),
      path: 'spec.sslRedirectPort',
      message: 'must be the port of an HTTPS listener',
    },
    {
      name: 'two rules with one priority',
      category: 'duplicate',
      spec: withSpec(albGood, { rules: [albGood.rules?.[0], { ...albGood.rules?.[1], priority: 1 }] }),
      path: 'spec.rules[1]',
    },
    { name: 'one subnet', category: 'range', spec: withSpec(albGood, { subnets: ['subnet-0a1b2c3d'] }), path: 'spec.subnets' },
  ],
};

// ---------------------------------------------------------------------------------------------------
// NodeGroup — the article's ASG (c5.large, min 0, max 10).

export const nodeGroupGood: NodeGroupSpec = {
  asgName: 'int32bit-kubernetes-nodes',
  minSize: 0,
  maxSize: 10,
  priority: 10,
  nodeTemplate: {
    instanceTypes: ['c5.large'],
    zones: ['cn-northwest-1a', 'cn-northwest-1b'],
    labels: { 'node.kubernetes.io/pool': 'general' },
    taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }],
    resources: { cpu: 2, memory: '4Gi', 'nvidia.com/gpu': '0' },
  },
  scaleDown: { enabled: true, utilizationThreshold: 0.5, unneededSeconds: 10 },
};

const nodeGroup: KindFixture = {
  kind: 'NodeGroup',
  good: [
    { name: 'discovered ASG, defaults', spec: { asgName: 'int32bit-kubernetes-nodes' } },
    { name: 'article ASG with template', spec: nodeGroupGood },
    { name: 'managed limits', spec: { asgName: 'batch', minSize: 1, maxSize: 3, manageAsgLimits: true } },
  ],
  bad: [
    { name: 'maxSize as a string', category: 'type', spec: withSpec(nodeGroupGood, { maxSize: 'ten' }), path: 'spec.maxSize' },
    { name: 'no asgName', category: 'required', spec: withSpec(nodeGroupGood, { asgName: undefined }), path: 'spec.asgName' },
    { name: 'negative minSize', category: 'range', spec: withSpec(nodeGroupGood, { minSize: -1 }), path: 'spec.minSize' },
    {
      name: 'utilization above 1',
      category: 'range',
      spec: withSpec(nodeGroupGood, { scaleDown: { utilizationThreshold: 1.5 } }),
      path: 'spec.scaleDown.utilizationThreshold',
    },
    {
      name: 'unknown taint effect',
      category: 'enum',
      spec: withSpec(nodeGroupGood, { nodeTemplate: { taints: [{ key: 'dedicated', effect: 'NoWay' }] } }),
      path: 'spec.nodeTemplate.taints[0].effect',
    },
    {
      name: 'min above max',
      category: 'cel',
      spec: withSpec(nodeGroupGood, { minSize: 5, maxSize: 2 }),
      path: 'spec.minSize',
      message: 'spec.minSize must not exceed spec.maxSize',
    },
    {
      name: 'manageAsgLimits without sizes',
      category: 'cel',
      spec: withSpec(nodeGroupGood, { manageAsgLimits: true, minSize: undefined }),
      path: 'spec.manageAsgLimits',
      message: 'needs both spec.minSize and spec.maxSize',
    },
    {
      name: 'label key with two slashes',
      category: 'cel',
      spec: withSpec(nodeGroupGood, { nodeTemplate: { labels: { 'a/b/c': 'x' } } }),
      path: 'spec.nodeTemplate.labels',
      message: 'label keys',
    },
    {
      name: 'quantity with a space',
      category: 'pattern',
      spec: withSpec(nodeGroupGood, { nodeTemplate: { resources: { memory: '4 Gi' } } }),
      path: 'spec.nodeTemplate.resources.memory',
    },
  ],
};

export const FIXTURES: readonly KindFixture[] = [awsVolume, eniPool, nlb, alb, nodeGroup];
