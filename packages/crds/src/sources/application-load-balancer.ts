// ApplicationLoadBalancer: one ALB per Ingress group (issue 6): listeners, rules with stable priorities,
// target groups per (Service, port), its security group. Applied by hand works the same way.
import { arr, bool, int, obj, rule, str } from '../schema.ts';
import {
  ARN_PATTERN,
  CATEGORY,
  DNS_LABEL,
  ageColumn,
  attributeMap,
  awsTags,
  cidrList,
  has,
  objectName,
  port,
  readyColumn,
  reasonColumn,
  statusCommon,
} from './common.ts';
import type { KindSource } from './common.ts';
import { healthCheckSchema, loadBalancerName, securityGroupRuleRefs, subnetList } from './elb-common.ts';
import type { HealthCheckShape } from './elb-common.ts';

export const APPLICATION_LOAD_BALANCER_VERSION = 'v1alpha1';

export const APPLICATION_LOAD_BALANCER = {
  group: 'elb.kube-iaas.dev',
  version: APPLICATION_LOAD_BALANCER_VERSION,
  apiVersion: `elb.kube-iaas.dev/${APPLICATION_LOAD_BALANCER_VERSION}`,
  kind: 'ApplicationLoadBalancer',
  listKind: 'ApplicationLoadBalancerList',
  plural: 'applicationloadbalancers',
  singular: 'applicationloadbalancer',
  shortNames: ['alb'],
  scope: 'Namespaced',
  crdName: 'applicationloadbalancers.elb.kube-iaas.dev',
  finalizer: 'elb.kube-iaas.dev/finalizer',
} as const;

/** AWS quotas the schema enforces. */
export const ALB_LIMITS = {
  listeners: 50,
  rules: 100,
  targetGroups: 100,
  conditionValuesPerRule: 5,
  securityGroups: 5,
} as const;

const TG_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

const ALB_HEALTH_CHECK: HealthCheckShape = {
  description: {
    defaults: 'Health check of every target group (the alb.ingress.kubernetes.io/healthcheck-* annotations).',
    override: 'Overrides of spec.healthCheck for this target group (a Service\'s own annotations); unset fields inherit.',
  },
  protocols: ['HTTP', 'HTTPS'],
  defaults: { protocol: 'HTTP', path: '/', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, successCodes: '200' },
  portDescription: 'Port of the health check; the traffic port when unset.',
  pathDescription: 'Path of the health check.',
  timeoutDescription: 'Seconds before a check counts as failed (2-120); less than intervalSeconds.',
  successCodesDescription: 'HTTP codes that mean healthy, e.g. "200" or "200-299" (alb.ingress.kubernetes.io/success-codes).',
  timeoutBelowInterval: true,
};

const healthCheck = (withDefaults: boolean, tsName: string) => healthCheckSchema(ALB_HEALTH_CHECK, withDefaults, tsName);

const targetGroupRef = obj(
  'A target group to forward to, by name (from spec.targetGroups).',
  {
    name: str('Name of an entry of spec.targetGroups.', { minLength: 1, maxLength: 63, pattern: TG_NAME }),
    weight: int('Relative weight (0-999).', { minimum: 0, maximum: 999, default: 1 }),
  },
  { required: ['name'], tsName: 'AlbTargetGroupRef' },
);

const action = obj(
  'What a rule (or a listener by default) does: forward to target groups, answer with a fixed response, or redirect. Exactly the field named by type is set.',
  {
    type: str('Kind of action.', { enum: ['forward', 'fixed-response', 'redirect'], tsName: 'AlbActionType' }),
    forward: obj(
      'Forward to one or more target groups.',
      {
        targetGroups: arr('Target groups with weights.', targetGroupRef, {
          minItems: 1,
          maxItems: 5,
          listType: 'map',
          mapKeys: ['name'],
        }),
      },
      { required: ['targetGroups'], tsName: 'AlbForwardAction' },
    ),
    fixedResponse: obj(
      'Answer directly (alb.ingress.kubernetes.io/actions.<name> type fixed-response).',
      {
        statusCode: int('HTTP status code (200-599).', { minimum: 200, maximum: 599 }),
        contentType: str('Content type of the body.', {
          enum: ['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json'],
        }),
        messageBody: str('Body (up to 1024 characters).', { maxLength: 1024 }),
      },
      { required: ['statusCode'], tsName: 'AlbFixedResponseAction' },
    ),
    redirect: obj(
      'Redirect (alb.ingress.kubernetes.io/actions.<name> type redirect); unset parts keep the request\'s (#{host}, #{path}, …).',
      {
        protocol: str('Protocol to redirect to.', { enum: ['HTTP', 'HTTPS', '#{protocol}'] }),
        port: str('Port to redirect to, 1-65535 or #{port}.', { pattern: '^(#\\{port\\}|[0-9]{1,5})$' }),
        host: str('Host to redirect to.', { minLength: 1, maxLength: 128 }),
        path: str('Path to redirect to; starts with /.', { minLength: 1, maxLength: 128, pattern: '^/' }),
        query: str('Query to redirect to, without the leading ?.', { maxLength: 128 }),
        statusCode: str('HTTP_301 (permanent) or HTTP_302 (temporary).', { enum: ['HTTP_301', 'HTTP_302'] }),
      },
      { required: ['statusCode'], tsName: 'AlbRedirectAction' },
    ),
  },
  {
    required: ['type'],
    tsName: 'AlbAction',
    rules: [
      rule(
        "(self.type == 'forward') == has(self.forward)",
        'forward must be set exactly when type is forward',
        (s) => (s.type === 'forward') === has(s, 'forward'),
        { fieldPath: '.forward' },
      ),
      rule(
        "(self.type == 'fixed-response') == has(self.fixedResponse)",
        'fixedResponse must be set exactly when type is fixed-response',
        (s) => (s.type === 'fixed-response') === has(s, 'fixedResponse'),
        { fieldPath: '.fixedResponse' },
      ),
      rule(
        "(self.type == 'redirect') == has(self.redirect)",
        'redirect must be set exactly when type is redirect',
        (s) => (s.type === 'redirect') === has(s, 'redirect'),
        { fieldPath: '.redirect' },
      ),
    ],
  },
);

const listener = obj(
  'A listener (alb.ingress.kubernetes.io/listen-ports).',
  {
    port: port('Port the ALB listens on.'),
    protocol: str('HTTP or HTTPS.', { enum: ['HTTP', 'HTTPS'], default: 'HTTP' }),
    certificateArns: arr(
      'ACM or IAM certificates of an HTTPS listener (alb.ingress.kubernetes.io/certificate-arn); the first is the default.',
      str('Certificate ARN.', { maxLength: 2048, pattern: ARN_PATTERN }),
      { maxItems: 25, listType: 'set' },
    ),
    sslPolicy: str('TLS security policy of an HTTPS listener (alb.ingress.kubernetes.io/ssl-policy).', {
      minLength: 1,
      maxLength: 128,
    }),
    defaultAction: action,
  },
  {
    required: ['port'],
    tsName: 'AlbListener',
    rules: [
      rule(
        "self.protocol != 'HTTPS' || (has(self.certificateArns) && size(self.certificateArns) > 0)",
        'certificateArns is required for an HTTPS listener',
        (s) => s.protocol !== 'HTTPS' || (has(s, 'certificateArns') && s.certificateArns.length > 0),
        { fieldPath: '.certificateArns', reason: 'FieldValueRequired' },
      ),
      rule(
        "self.protocol == 'HTTPS' || (!has(self.certificateArns) && !has(self.sslPolicy))",
        'certificateArns and sslPolicy are only allowed on an HTTPS listener',
        (s) => s.protocol === 'HTTPS' || (!has(s, 'certificateArns') && !has(s, 'sslPolicy')),
        { fieldPath: '.protocol' },
      ),
    ],
  },
);

const ruleNode = obj(
  'A listener rule: host and path conditions and an action, at a fixed priority (the translator keeps priorities stable, so adding a path never renumbers other rules).',
  {
    listenerPort: port('Port of the listener (from spec.listeners) the rule belongs to.'),
    priority: int('Priority, 1-50000; lower is evaluated first. Unique per listener.', { minimum: 1, maximum: 50000 }),
    ingressName: objectName('Ingress (in this namespace) the rule came from; a member leaving the group removes only its rules'),
    hosts: arr(
      'host-header condition values; * and ? are wildcards.',
      str('A host name pattern.', { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9*?.-]+$' }),
      { maxItems: 5, listType: 'set' },
    ),
    paths: arr(
      'path-pattern condition values, e.g. /v1 and /v1/* for an Ingress path /v1 of type Prefix.',
      str('A path pattern; starts with /.', { minLength: 1, maxLength: 128, pattern: '^/' }),
      { maxItems: 5, listType: 'set' },
    ),
    action,
  },
  {
    required: ['listenerPort', 'priority', 'action'],
    tsName: 'AlbRule',
    rules: [
      rule(
        '(has(self.hosts) ? size(self.hosts) : 0) + (has(self.paths) ? size(self.paths) : 0) >= 1',
        'a rule needs at least one of hosts or paths',
        (s) => (s.hosts?.length ?? 0) + (s.paths?.length ?? 0) >= 1,
        { fieldPath: '.paths', reason: 'FieldValueRequired' },
      ),
      rule(
        `(has(self.hosts) ? size(self.hosts) : 0) + (has(self.paths) ? size(self.paths) : 0) <= ${ALB_LIMITS.conditionValuesPerRule}`,
        `hosts and paths together may hold at most ${ALB_LIMITS.conditionValuesPerRule} values (an ALB limit)`,
        (s) => (s.hosts?.length ?? 0) + (s.paths?.length ?? 0) <= ALB_LIMITS.conditionValuesPerRule,
        { fieldPath: '.paths' },
      ),
    ],
  },
);

const targetGroup = obj(
  'A target group: one per (Service, port), instance targets on the Service\'s NodePort.',
  {
    name: str('Name of the entry, referenced by forward actions (not the AWS name, which the operator derives).', {
      minLength: 1,
      maxLength: 63,
      pattern: TG_NAME,
    }),
    serviceRef: obj(
      'Backend Service (in this namespace) and port. Its NodePort fills in targetPort when that is unset; the Service must be of type NodePort or LoadBalancer.',
      {
        name: objectName('Service'),
        port: port('Service port number.'),
        portName: str('Service port name (instead of port).', { minLength: 1, maxLength: 63, pattern: DNS_LABEL }),
      },
      {
        required: ['name'],
        tsName: 'AlbServiceRef',
        rules: [
          rule(
            'has(self.port) != has(self.portName)',
            'exactly one of port and portName must be set',
            (s) => has(s, 'port') !== has(s, 'portName'),
            { fieldPath: '.port' },
          ),
        ],
      },
    ),
    targetType: str(
      'instance registers Nodes\' instances on the NodePort. ip (pod IPs) is not supported yet: it needs the eni-operator\'s pod addresses.',
      { enum: ['instance', 'ip'], default: 'instance' },
    ),
    targetPort: port('Port on each instance (the NodePort). Required unless serviceRef is set.'),
    protocol: str('Protocol to the targets (alb.ingress.kubernetes.io/backend-protocol).', {
      enum: ['HTTP', 'HTTPS'],
      default: 'HTTP',
    }),
    healthCheck: healthCheck(false, 'AlbHealthCheckOverride'),
    attributes: attributeMap('Target group attributes (alb.ingress.kubernetes.io/target-group-attributes).'),
  },
  {
    required: ['name'],
    tsName: 'AlbTargetGroup',
    rules: [
      rule(
        "self.targetType != 'ip'",
        'targetType ip is not supported yet (it needs the eni-operator\'s pod IPs); use instance',
        (s) => s.targetType !== 'ip',
        { fieldPath: '.targetType', reason: 'FieldValueForbidden' },
      ),
      rule(
        'has(self.targetPort) || has(self.serviceRef)',
        'targetPort is required when serviceRef is not set',
        (s) => has(s, 'targetPort') || has(s, 'serviceRef'),
        { fieldPath: '.targetPort', reason: 'FieldValueRequired' },
      ),
    ],
  },
);

// Forward actions must name a declared target group.
type Action = { type: string; forward?: { targetGroups: { name: string }[] } };
const forwardsKnown = (a: Action | undefined, names: Set<string>) =>
  !a || a.type !== 'forward' || !a.forward || a.forward.targetGroups.every((t) => names.has(t.name));
const celForwardsKnown = (a: string) =>
  `${a}.type != 'forward' || !has(${a}.forward) || ${a}.forward.targetGroups.all(t, has(self.targetGroups) && self.targetGroups.exists(g, g.name == t.name))`;

const spec = obj(
  'Desired Application Load Balancer for one Ingress group: listeners, rules, target groups, security, attributes and tags. Written by the ingress-operator from the group\'s Ingresses, or by hand.',
  {
    groupName: str('IngressGroup (alb.ingress.kubernetes.io/group.name); unset for an Ingress that is a group of one.', {
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL,
    }),
    ingresses: arr(
      'Member Ingresses (in this namespace) in merge order (alb.ingress.kubernetes.io/group.order).',
      obj(
        'A member Ingress.',
        {
          name: objectName('Ingress'),
          order: int('Merge order (-1000 to 1000, lower first); ties are broken by name.', {
            minimum: -1000,
            maximum: 1000,
            default: 0,
          }),
        },
        { required: ['name'], tsName: 'AlbIngressMember' },
      ),
      { maxItems: 100, listType: 'map', mapKeys: ['name'] },
    ),
    loadBalancerName: loadBalancerName(),
    scheme: str('internet-facing or internal (alb.ingress.kubernetes.io/scheme); internal when unset.', {
      enum: ['internet-facing', 'internal'],
      default: 'internal',
      tsName: 'LoadBalancerScheme',
    }),
    ipAddressType: str('IP address type of the load balancer.', {
      enum: ['ipv4', 'dualstack', 'dualstack-without-public-ipv4'],
      default: 'ipv4',
    }),
    subnets: subnetList(2),
    securityGroups: arr(
      'Security groups for the ALB, as IDs or Name tag values (alb.ingress.kubernetes.io/security-groups). When unset the operator creates and owns one, open on the listener ports to spec.inboundCidrs.',
      str('Security group ID or Name tag value.', { minLength: 1, maxLength: 255 }),
      { maxItems: ALB_LIMITS.securityGroups, listType: 'set' },
    ),
    manageBackendSecurityGroupRules: bool(
      'Add rules to the cluster-tagged node security group so the ALB reaches the NodePorts (alb.ingress.kubernetes.io/manage-backend-security-group-rules). Never on untagged groups.',
      { default: true },
    ),
    inboundCidrs: cidrList(
      'Client CIDRs allowed on the listener ports of the managed security group (alb.ingress.kubernetes.io/inbound-cidrs); 0.0.0.0/0 for internet-facing and the VPC CIDR for internal when unset.',
      60,
    ),
    listeners: arr(`Listeners, keyed by port; 1 to ${ALB_LIMITS.listeners}.`, listener, {
      minItems: 1,
      maxItems: ALB_LIMITS.listeners,
      listType: 'map',
      mapKeys: ['port'],
    }),
    sslRedirectPort: port(
      'Redirect every HTTP listener to the HTTPS listener on this port (alb.ingress.kubernetes.io/ssl-redirect).',
    ),
    rules: arr(`Listener rules, keyed by (listenerPort, priority); at most ${ALB_LIMITS.rules}.`, ruleNode, {
      maxItems: ALB_LIMITS.rules,
      listType: 'map',
      mapKeys: ['listenerPort', 'priority'],
    }),
    targetGroups: arr(`Target groups, keyed by name; at most ${ALB_LIMITS.targetGroups}.`, targetGroup, {
      maxItems: ALB_LIMITS.targetGroups,
      listType: 'map',
      mapKeys: ['name'],
    }),
    healthCheck: healthCheck(true, 'AlbHealthCheck'),
    attributes: attributeMap(
      'Load balancer attributes (alb.ingress.kubernetes.io/load-balancer-attributes), e.g. idle_timeout.timeout_seconds: "60".',
    ),
    additionalTags: awsTags('Extra tags on the ALB, its target groups and security group (alb.ingress.kubernetes.io/tags).'),
  },
  {
    required: ['listeners'],
    tsName: 'ApplicationLoadBalancerSpec',
    rules: [
      rule(
        '!has(self.rules) || self.rules.all(r, self.listeners.exists(l, l.port == r.listenerPort))',
        'every spec.rules[].listenerPort must be the port of an entry in spec.listeners',
        (s) => !has(s, 'rules') || s.rules.every((r: { listenerPort: number }) => s.listeners.some((l: { port: number }) => l.port === r.listenerPort)),
        { fieldPath: '.rules' },
      ),
      rule(
        `!has(self.rules) || self.rules.all(r, ${celForwardsKnown('r.action')})`,
        'spec.rules[].action.forward.targetGroups[].name must name an entry of spec.targetGroups',
        (s) => {
          const names = new Set<string>((s.targetGroups ?? []).map((g: { name: string }) => g.name));
          return (s.rules ?? []).every((r: { action: Action }) => forwardsKnown(r.action, names));
        },
        { fieldPath: '.rules' },
      ),
      rule(
        `self.listeners.all(l, !has(l.defaultAction) || ${celForwardsKnown('l.defaultAction')})`,
        'spec.listeners[].defaultAction.forward.targetGroups[].name must name an entry of spec.targetGroups',
        (s) => {
          const names = new Set<string>((s.targetGroups ?? []).map((g: { name: string }) => g.name));
          return s.listeners.every((l: { defaultAction?: Action }) => forwardsKnown(l.defaultAction, names));
        },
        { fieldPath: '.listeners' },
      ),
      rule(
        "!has(self.sslRedirectPort) || self.listeners.exists(l, l.port == self.sslRedirectPort && l.protocol == 'HTTPS')",
        'spec.sslRedirectPort must be the port of an HTTPS listener in spec.listeners',
        (s) =>
          !has(s, 'sslRedirectPort') ||
          s.listeners.some((l: { port: number; protocol: string }) => l.port === s.sslRedirectPort && l.protocol === 'HTTPS'),
        { fieldPath: '.sslRedirectPort' },
      ),
    ],
  },
);

const status = obj(
  'Observed load balancer, written by the ingress-operator. The ARNs allow direct lookups; if they are lost the operator finds its resources again by their owner tags.',
  {
    ...statusCommon(),
    loadBalancerArn: str('ARN of the ALB.', { maxLength: 2048 }),
    loadBalancerName: str('Name of the ALB in AWS.', { maxLength: 32 }),
    dnsName: str('DNS name of the ALB; also each member Ingress\'s status.loadBalancer.ingress[0].hostname.', {
      maxLength: 253,
    }),
    canonicalHostedZoneId: str('Route 53 hosted zone of the DNS name.', { maxLength: 64 }),
    scheme: str('Scheme of the ALB as created.', { maxLength: 32 }),
    state: str('ELB state: provisioning, active, active_impaired or failed.', { maxLength: 32 }),
    subnetIds: arr('Subnets the ALB is in.', str('Subnet ID.', { maxLength: 64 }), { maxItems: 16, listType: 'set' }),
    securityGroupId: str('The security group the operator created for the ALB, if any.', { maxLength: 64 }),
    listeners: arr(
      'Listeners as created, by port.',
      obj(
        'A listener.',
        {
          port: port('Listener port.'),
          protocol: str('Listener protocol.', { maxLength: 16 }),
          listenerArn: str('ARN of the listener.', { maxLength: 2048 }),
        },
        { required: ['port'], tsName: 'AlbListenerStatus' },
      ),
      { maxItems: ALB_LIMITS.listeners, listType: 'map', mapKeys: ['port'] },
    ),
    rules: arr(
      'Rules as created, with their priorities.',
      obj(
        'A rule.',
        {
          listenerPort: port('Port of its listener.'),
          priority: int('Its priority.', { minimum: 1, maximum: 50000 }),
          ruleArn: str('ARN of the rule.', { maxLength: 2048 }),
        },
        { required: ['listenerPort', 'priority'], tsName: 'AlbRuleStatus' },
      ),
      { maxItems: ALB_LIMITS.rules, listType: 'map', mapKeys: ['listenerPort', 'priority'] },
    ),
    targetGroups: arr(
      'Target groups with their registered targets.',
      obj(
        'A target group.',
        {
          name: str('Name of the spec entry.', { maxLength: 63 }),
          targetGroupArn: str('ARN of the target group.', { maxLength: 2048 }),
          targetGroupName: str('AWS name of the target group.', { maxLength: 32 }),
          targetPort: port('Port on the targets (the NodePort).'),
          targets: int('Registered targets.', { minimum: 0 }),
          healthyTargets: int('Targets passing health checks.', { minimum: 0 }),
        },
        { required: ['name'], tsName: 'AlbTargetGroupStatus' },
      ),
      { maxItems: ALB_LIMITS.targetGroups, listType: 'map', mapKeys: ['name'] },
    ),
    ingresses: arr(
      'Per member Ingress: whether its rules are applied. A broken member is left out and named here; the others keep working.',
      obj(
        'A member\'s state.',
        {
          name: str('Name of the Ingress.', { maxLength: 253 }),
          applied: bool('Whether its rules are on the ALB.'),
          reason: str('CamelCase reason when not applied.', { maxLength: 1024 }),
          message: str('What is wrong with it.', { maxLength: 32768 }),
        },
        { required: ['name'], tsName: 'AlbIngressStatus' },
      ),
      { maxItems: 100, listType: 'map', mapKeys: ['name'] },
    ),
    securityGroupRules: securityGroupRuleRefs(),
  },
  { tsName: 'ApplicationLoadBalancerStatus' },
);

export const applicationLoadBalancerSource: KindSource = {
  ...APPLICATION_LOAD_BALANCER,
  shortNames: [...APPLICATION_LOAD_BALANCER.shortNames],
  categories: [CATEGORY],
  component: 'ingress-operator',
  description:
    'ApplicationLoadBalancer is one AWS Application Load Balancer managed by the kube-iaas ingress-operator for one Ingress group (IngressClass alb): listeners, host/path rules at stable priorities, a target group per (Service, port) with instance targets on the NodePort, and its security group. Translated from the group\'s Ingresses (each member an owner) or applied by hand.',
  spec,
  status,
  printerColumns: [
    { name: 'Scheme', type: 'string', jsonPath: '.spec.scheme', description: 'internet-facing or internal.' },
    { name: 'DNS-Name', type: 'string', jsonPath: '.status.dnsName', description: 'DNS name of the ALB.' },
    { name: 'Group', type: 'string', jsonPath: '.spec.groupName', description: 'Ingress group.', priority: 1 },
    { name: 'State', type: 'string', jsonPath: '.status.state', description: 'ELB state.', priority: 1 },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
  selectableFields: ['.spec.groupName'],
};
