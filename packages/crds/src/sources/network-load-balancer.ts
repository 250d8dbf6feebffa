// NetworkLoadBalancer: the whole desired NLB for one Service of type LoadBalancer (issue 4), or applied
// by hand pointing at a Service by name or at explicit instances.
import { arr, int, map, obj, rule, str } from '../schema.ts';
import {
  ARN_PATTERN,
  CATEGORY,
  INSTANCE_ID,
  ageColumn,
  awsTags,
  cidrList,
  dnsLabelName,
  has,
  objectName,
  port,
  readyColumn,
  reasonColumn,
  statusCommon,
} from './common.ts';
import type { KindSource } from './common.ts';
import { NLB_ATTRIBUTES, NLB_TARGET_GROUP_ATTRIBUTES, knownAttributeMap } from './nlb-attributes.ts';
import { healthCheckSchema, loadBalancerName, securityGroupRuleRefs, subnetList } from './elb-common.ts';
import type { HealthCheckShape } from './elb-common.ts';

export const NETWORK_LOAD_BALANCER_VERSION = 'v1alpha1';

export const NETWORK_LOAD_BALANCER = {
  group: 'elb.kube-iaas.dev',
  version: NETWORK_LOAD_BALANCER_VERSION,
  apiVersion: `elb.kube-iaas.dev/${NETWORK_LOAD_BALANCER_VERSION}`,
  kind: 'NetworkLoadBalancer',
  listKind: 'NetworkLoadBalancerList',
  plural: 'networkloadbalancers',
  singular: 'networkloadbalancer',
  shortNames: ['nlb'],
  scope: 'Namespaced',
  crdName: 'networkloadbalancers.elb.kube-iaas.dev',
  finalizer: 'elb.kube-iaas.dev/finalizer',
} as const;

export const NLB_PROTOCOLS = ['TCP', 'UDP', 'TCP_UDP', 'TLS'] as const;
/** Listeners per NLB (AWS quota). */
export const NLB_MAX_LISTENERS = 50;

const NLB_HEALTH_CHECK: HealthCheckShape = {
  description: {
    defaults: 'Health check of the target groups (the aws-load-balancer-healthcheck-* annotations).',
    override: 'Overrides of spec.healthCheck for this listener\'s target group; unset fields inherit.',
  },
  protocols: ['TCP', 'HTTP', 'HTTPS'],
  defaults: { protocol: 'TCP', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
  portDescription: 'Port of the health check; the traffic port (the target port) when unset.',
  pathDescription: 'Path for HTTP and HTTPS health checks.',
  timeoutDescription: 'Seconds before a check counts as failed (2-120); at most intervalSeconds.',
  successCodesDescription: 'HTTP codes that mean healthy, e.g. "200" or "200-399" (HTTP and HTTPS only).',
  timeoutBelowInterval: false,
};

const healthCheck = (withDefaults: boolean, tsName: string) => healthCheckSchema(NLB_HEALTH_CHECK, withDefaults, tsName);

const listener = obj(
  'One listener (one per Service port) and the target group behind it. TCP and UDP on the same port are one TCP_UDP listener.',
  {
    name: dnsLabelName('Service port this listener serves'),
    port: port('Port the load balancer listens on.'),
    protocol: str('Listener protocol. TLS terminates at the load balancer with spec.listeners[].certificateArns.', {
      enum: NLB_PROTOCOLS,
      default: 'TCP',
      tsName: 'NlbProtocol',
    }),
    targetPort: port(
      'Port on each target instance: the Service\'s NodePort. Required unless spec.serviceRef is set (then the operator reads the NodePort of the Service port with this listener\'s port).',
    ),
    targetProtocol: str(
      'Protocol to the targets. Defaults to the listener protocol, and to TCP behind a TLS listener; TLS re-encrypts.',
      { enum: NLB_PROTOCOLS },
    ),
    certificateArns: arr(
      'ACM or IAM certificates for a TLS listener (aws-load-balancer-ssl-cert); the first is the default, the others are offered by SNI.',
      str('Certificate ARN.', { maxLength: 2048, pattern: ARN_PATTERN }),
      { maxItems: 25, listType: 'set' },
    ),
    sslPolicy: str('TLS security policy, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS listeners only).', {
      minLength: 1,
      maxLength: 128,
    }),
    alpnPolicy: str('ALPN policy of a TLS listener.', {
      enum: ['HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred', 'None'],
    }),
    healthCheck: healthCheck(false, 'NlbHealthCheckOverride'),
  },
  {
    required: ['port'],
    tsName: 'NlbListener',
    rules: [
      rule(
        "self.protocol != 'TLS' || (has(self.certificateArns) && size(self.certificateArns) > 0)",
        'certificateArns is required for a TLS listener',
        (s) => s.protocol !== 'TLS' || (has(s, 'certificateArns') && s.certificateArns.length > 0),
        { fieldPath: '.certificateArns', reason: 'FieldValueRequired' },
      ),
      rule(
        "self.protocol == 'TLS' || (!has(self.certificateArns) && !has(self.sslPolicy) && !has(self.alpnPolicy))",
        'certificateArns, sslPolicy and alpnPolicy are only allowed on a TLS listener',
        (s) => s.protocol === 'TLS' || (!has(s, 'certificateArns') && !has(s, 'sslPolicy') && !has(s, 'alpnPolicy')),
        { fieldPath: '.protocol' },
      ),
      rule(
        "!has(self.targetProtocol) || (self.protocol == 'TLS' ? self.targetProtocol in ['TCP', 'TLS'] : self.targetProtocol == self.protocol)",
        'targetProtocol must equal protocol, or be TCP or TLS behind a TLS listener',
        (s) =>
          !has(s, 'targetProtocol') ||
          (s.protocol === 'TLS' ? ['TCP', 'TLS'].includes(s.targetProtocol) : s.targetProtocol === s.protocol),
        { fieldPath: '.targetProtocol' },
      ),
    ],
  },
);

const spec = obj(
  'Desired Network Load Balancer: scheme, subnets, listeners with their target groups, targets, health checks, attributes, client CIDRs and tags. Written by the lb-operator from a Service, or by hand.',
  {
    serviceRef: obj(
      'The Service (in this namespace) this load balancer serves. Its NodePorts fill in missing targetPorts, and its status gets the DNS name.',
      { name: objectName('Service') },
      { required: ['name'], tsName: 'NlbServiceRef' },
    ),
    loadBalancerName: loadBalancerName(),
    scheme: str(
      'internet-facing or internal. The translator picks internet-facing for Services selected by the legacy aws-load-balancer-type: nlb annotation and internal for the kube-iaas.dev/nlb class; the default for a hand-written resource is internal. Changing it replaces the load balancer.',
      { enum: ['internet-facing', 'internal'], default: 'internal', tsName: 'LoadBalancerScheme' },
    ),
    ipAddressType: str('IP address type of the load balancer.', { enum: ['ipv4', 'dualstack'], default: 'ipv4' }),
    subnets: subnetList(1),
    listeners: arr(`Listeners, keyed by port; 1 to ${NLB_MAX_LISTENERS}.`, listener, {
      minItems: 1,
      maxItems: NLB_MAX_LISTENERS,
      listType: 'map',
      mapKeys: ['port'],
    }),
    targets: obj(
      'Which instances are registered in the target groups (target type instance). Default: every Node of the cluster, except those labelled node.kubernetes.io/exclude-from-external-load-balancers.',
      {
        nodeSelector: map(
          'Only Nodes with all these labels (aws-load-balancer-target-node-labels).',
          str('Label value.', { maxLength: 63 }),
          { maxProperties: 32 },
        ),
        instanceIds: arr(
          'Explicit instances instead of Nodes (for a load balancer applied by hand).',
          str('Instance ID (i-…).', { pattern: INSTANCE_ID }),
          { minItems: 1, maxItems: 500, listType: 'set' },
        ),
      },
      {
        tsName: 'NlbTargets',
        rules: [
          rule(
            '!(has(self.nodeSelector) && has(self.instanceIds))',
            'spec.targets.nodeSelector and spec.targets.instanceIds are mutually exclusive',
            (s) => !(has(s, 'nodeSelector') && has(s, 'instanceIds')),
            { fieldPath: '.instanceIds', reason: 'FieldValueForbidden' },
          ),
        ],
      },
    ),
    healthCheck: healthCheck(true, 'NlbHealthCheck'),
    attributes: knownAttributeMap(
      `Load balancer attributes (aws-load-balancer-attributes), e.g. load_balancing.cross_zone.enabled: "true", deletion_protection.enabled: "true". Only the attributes AWS documents for a Network Load Balancer, with values of their type: ${Object.keys(NLB_ATTRIBUTES).join(', ')}.`,
      NLB_ATTRIBUTES,
      'Network Load Balancer',
    ),
    targetGroupAttributes: knownAttributeMap(
      `Attributes of every target group (aws-load-balancer-target-group-attributes and -proxy-protocol), e.g. proxy_protocol_v2.enabled: "true", deregistration_delay.timeout_seconds: "30". Only the attributes AWS documents for a Network Load Balancer's target groups, with values of their type: ${Object.keys(NLB_TARGET_GROUP_ATTRIBUTES).join(', ')}.`,
      NLB_TARGET_GROUP_ATTRIBUTES,
      'target group',
    ),
    sourceRanges: cidrList(
      'Client CIDRs allowed to reach the targets (spec.loadBalancerSourceRanges or aws-load-balancer-source-ranges); everyone (0.0.0.0/0) when unset for internet-facing, the VPC CIDR for internal. Opened on the frontend security group of the load balancer (on the cluster-tagged node security group only for an NLB created without security groups); at most --max-source-ranges after merging.',
      60,
    ),
    additionalTags: awsTags(
      'Extra tags on the load balancer and its target groups (aws-load-balancer-additional-resource-tags).',
    ),
  },
  {
    required: ['listeners'],
    tsName: 'NetworkLoadBalancerSpec',
    rules: [
      rule(
        'has(self.serviceRef) || self.listeners.all(l, has(l.targetPort))',
        'spec.listeners[].targetPort is required on every listener when spec.serviceRef is not set',
        (s) => has(s, 'serviceRef') || s.listeners.every((l: unknown) => has(l, 'targetPort')),
        { fieldPath: '.listeners', reason: 'FieldValueRequired' },
      ),
    ],
  },
);

const status = obj(
  'Observed load balancer, written by the lb-operator. The ARNs allow direct lookups; if they are lost the operator finds its resources again by their owner tags.',
  {
    ...statusCommon(),
    loadBalancerArn: str('ARN of the NLB.', { maxLength: 2048 }),
    loadBalancerName: str('Name of the NLB in AWS.', { maxLength: 32 }),
    dnsName: str('DNS name of the NLB; also the Service\'s status.loadBalancer.ingress[0].hostname.', { maxLength: 253 }),
    canonicalHostedZoneId: str('Route 53 hosted zone of the DNS name (for alias records).', { maxLength: 64 }),
    scheme: str('Scheme of the NLB as created.', { maxLength: 32 }),
    state: str('ELB state: provisioning, active, active_impaired or failed.', { maxLength: 32 }),
    subnetIds: arr('Subnets the NLB is in.', str('Subnet ID.', { maxLength: 64 }), { maxItems: 16, listType: 'set' }),
    listeners: arr(
      'Listeners as created, by port.',
      obj(
        'A listener.',
        {
          port: port('Listener port.'),
          protocol: str('Listener protocol.', { maxLength: 16 }),
          listenerArn: str('ARN of the listener.', { maxLength: 2048 }),
          targetGroupArn: str('ARN of the target group it forwards to.', { maxLength: 2048 }),
        },
        { required: ['port'], tsName: 'NlbListenerStatus' },
      ),
      { maxItems: NLB_MAX_LISTENERS, listType: 'map', mapKeys: ['port'] },
    ),
    targetGroups: arr(
      'Target groups, one per listener, with their registered targets.',
      obj(
        'A target group.',
        {
          listenerPort: port('Port of the listener the group serves.'),
          targetGroupArn: str('ARN of the target group.', { maxLength: 2048 }),
          targetGroupName: str('Name of the target group.', { maxLength: 32 }),
          protocol: str('Protocol to the targets.', { maxLength: 16 }),
          targetPort: port('Port on the targets (the NodePort).'),
          targets: int('Registered targets.', { minimum: 0 }),
          healthyTargets: int('Targets passing health checks.', { minimum: 0 }),
        },
        { required: ['listenerPort'], tsName: 'NlbTargetGroupStatus' },
      ),
      { maxItems: NLB_MAX_LISTENERS, listType: 'map', mapKeys: ['listenerPort'] },
    ),
    securityGroupRules: securityGroupRuleRefs(),
  },
  { tsName: 'NetworkLoadBalancerStatus' },
);

export const networkLoadBalancerSource: KindSource = {
  ...NETWORK_LOAD_BALANCER,
  shortNames: [...NETWORK_LOAD_BALANCER.shortNames],
  categories: [CATEGORY],
  component: 'lb-operator',
  description:
    'NetworkLoadBalancer is one AWS Network Load Balancer managed by the kube-iaas lb-operator: the NLB, one listener and target group per port, instance targets on the NodePort, and the security-group rules for client CIDRs and health checks. Translated from a Service of type LoadBalancer (same namespace and name, owned by it) or applied by hand.',
  spec,
  status,
  printerColumns: [
    { name: 'Scheme', type: 'string', jsonPath: '.spec.scheme', description: 'internet-facing or internal.' },
    { name: 'DNS-Name', type: 'string', jsonPath: '.status.dnsName', description: 'DNS name of the NLB.' },
    { name: 'Service', type: 'string', jsonPath: '.spec.serviceRef.name', description: 'Service served.', priority: 1 },
    { name: 'State', type: 'string', jsonPath: '.status.state', description: 'ELB state.', priority: 1 },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
  selectableFields: ['.spec.serviceRef.name'],
};
