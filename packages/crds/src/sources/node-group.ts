// NodeGroup: one Auto Scaling Group the scaler-operator may grow and shrink (issue 7).
import { arr, bool, int, map, num, obj, quantity, rule, str, transitionRule } from '../schema.ts';
import type { SchemaNode } from '../schema.ts';
import { AZ_PATTERN, CATEGORY, INSTANCE_TYPE, ageColumn, has, reasonColumn, statusCommon } from './common.ts';
import type { KindSource } from './common.ts';

export const NODE_GROUP_VERSION = 'v1alpha1';

export const NODE_GROUP = {
  group: 'autoscaling.kube-iaas.dev',
  version: NODE_GROUP_VERSION,
  apiVersion: `autoscaling.kube-iaas.dev/${NODE_GROUP_VERSION}`,
  kind: 'NodeGroup',
  listKind: 'NodeGroupList',
  plural: 'nodegroups',
  singular: 'nodegroup',
  shortNames: ['ng'],
  scope: 'Cluster',
  crdName: 'nodegroups.autoscaling.kube-iaas.dev',
  finalizer: 'autoscaling.kube-iaas.dev/finalizer',
} as const;

const MAX_SIZE = 10000;

const LABEL_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
const labelKeysRule = rule(
  `self.all(k, size(k) <= 317 && k.matches(r'${LABEL_KEY}'))`,
  'keys must be Kubernetes label keys ([prefix/]name)',
  (s: Record<string, unknown>) => Object.keys(s).every((k) => k.length <= 317 && new RegExp(LABEL_KEY).test(k)),
);

const taint = obj(
  'A taint new nodes of the group start with (k8s.io/cluster-autoscaler/node-template/taint/<key> tags).',
  {
    key: str('Taint key.', { minLength: 1, maxLength: 317 }),
    value: str('Taint value.', { maxLength: 63 }),
    effect: str('Taint effect.', { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
  },
  { required: ['key', 'effect'], tsName: 'NodeTaint' },
);

const resourceMap = (description: string): SchemaNode =>
  map(description, quantity('A quantity, e.g. 2, 500m or 8Gi.'), { maxProperties: 32 });

const spec = obj(
  'Desired handling of one Auto Scaling Group. Created by the scaler-operator for each ASG with the cluster-autoscaler discovery tags, or by hand for any ASG tagged for this cluster.',
  {
    asgName: str('Name of the Auto Scaling Group. Immutable.', {
      minLength: 1,
      maxLength: 255,
      pattern: '^[^:]+$',
      rules: [transitionRule('self == oldSelf', 'spec.asgName is immutable')],
    }),
    minSize: int('Fewest nodes the operator leaves in the group. Defaults to the ASG\'s MinSize.', {
      minimum: 0,
      maximum: MAX_SIZE,
    }),
    maxSize: int('Most nodes the operator scales the group to. Defaults to the ASG\'s MaxSize.', {
      minimum: 0,
      maximum: MAX_SIZE,
    }),
    manageAsgLimits: bool(
      'Write spec.minSize and spec.maxSize to the ASG\'s own MinSize/MaxSize. Off by default: the operator never changes the ASG\'s limits unless told to.',
      { default: false },
    ),
    priority: int('Preference for the priority expander; higher wins.', { minimum: -1000, maximum: 1000, default: 0 }),
    nodeTemplate: obj(
      'What a new node of the group looks like, for planning when the group has no nodes (scale from zero). Unset parts come from the launch template or configuration (every type of a mixed-instances policy), DescribeInstanceTypes, core\'s max-pods formula, and the node-template tags; set parts win.',
      {
        instanceTypes: arr(
          'Instance types the group launches, e.g. c5.large; the smallest counts when planning.',
          str('Instance type.', { maxLength: 64, pattern: INSTANCE_TYPE }),
          { minItems: 1, maxItems: 40, listType: 'set' },
        ),
        zones: arr('Availability zones of the group.', str('Zone.', { maxLength: 64, pattern: AZ_PATTERN }), {
          maxItems: 16,
          listType: 'set',
        }),
        labels: map('Labels new nodes carry (…/node-template/label/<key> tags).', str('Label value.', { maxLength: 63 }), {
          maxProperties: 64,
          rules: [labelKeysRule],
        }),
        taints: arr('Taints new nodes carry.', taint, { maxItems: 32, listType: 'map', mapKeys: ['key', 'effect'] }),
        resources: resourceMap(
          'Capacity overrides and extended resources (…/node-template/resources/<name> tags), e.g. cpu: 2, memory: 4Gi, nvidia.com/gpu: 1.',
        ),
        reserved: resourceMap('Capacity kept back for kubelet and system daemons (kube-reserved + system-reserved + eviction threshold).'),
        maxPods: int('Pods per node; from core\'s ENI formula for the instance type when unset.', { minimum: 1, maximum: 1000 }),
      },
      { tsName: 'NodeTemplate' },
    ),
    scaleUp: obj(
      'Scale-up settings.',
      {
        enabled: bool('Allow the operator to raise the desired capacity.', { default: true }),
        provisionTimeoutSeconds: int(
          'How long requested nodes may take to join before the group backs off and pods are re-planned elsewhere.',
          { minimum: 30, maximum: 86400, default: 900 },
        ),
      },
      { default: {}, tsName: 'NodeGroupScaleUp' },
    ),
    scaleDown: obj(
      'Scale-down settings.',
      {
        enabled: bool('Allow the operator to remove idle nodes.', { default: true }),
        utilizationThreshold: num('A node whose requested CPU and memory stay below this fraction of allocatable is a candidate for removal.', {
          minimum: 0,
          maximum: 1,
          default: 0.5,
        }),
        unneededSeconds: int('How long a node must stay under the threshold before it is removed.', {
          minimum: 0,
          maximum: 86400,
          default: 600,
        }),
      },
      { default: {}, tsName: 'NodeGroupScaleDown' },
    ),
  },
  {
    required: ['asgName'],
    tsName: 'NodeGroupSpec',
    rules: [
      rule(
        '!has(self.minSize) || !has(self.maxSize) || self.minSize <= self.maxSize',
        'spec.minSize must not exceed spec.maxSize',
        (s) => !has(s, 'minSize') || !has(s, 'maxSize') || s.minSize <= s.maxSize,
        { fieldPath: '.minSize' },
      ),
      rule(
        '!self.manageAsgLimits || (has(self.minSize) && has(self.maxSize))',
        'spec.manageAsgLimits needs both spec.minSize and spec.maxSize',
        (s) => !s.manageAsgLimits || (has(s, 'minSize') && has(s, 'maxSize')),
        { fieldPath: '.manageAsgLimits', reason: 'FieldValueRequired' },
      ),
    ],
  },
);

const scaleEvent = (what: string, tsName: string, extra: Record<string, SchemaNode>) =>
  obj(
    `The last ${what}.`,
    {
      time: str('When it was requested.', { format: 'date-time' }),
      from: int('Desired capacity before.', { minimum: 0 }),
      to: int('Desired capacity after.', { minimum: 0 }),
      reason: str('Why, e.g. "12 pending pods need 4 c5.large".', { maxLength: 1024 }),
      ...extra,
    },
    { tsName },
  );

const status = obj(
  'Observed group, written by the scaler-operator.',
  {
    ...statusCommon(),
    asgArn: str('ARN of the ASG.', { maxLength: 2048 }),
    minSize: int('Effective minimum (spec or ASG).', { minimum: 0 }),
    maxSize: int('Effective maximum (spec or ASG).', { minimum: 0 }),
    desired: int('Desired capacity of the ASG.', { minimum: 0 }),
    current: int('Instances in the ASG.', { minimum: 0 }),
    ready: int('Instances whose Node is Ready.', { minimum: 0 }),
    upcoming: int('Instances requested or launched that have not joined as Nodes yet.', { minimum: 0 }),
    lastScaleUp: scaleEvent('scale-up', 'NodeGroupScaleUpEvent', {}),
    lastScaleDown: scaleEvent('scale-down', 'NodeGroupScaleDownEvent', {
      nodes: arr('Nodes removed.', str('Node name.', { maxLength: 253 }), { maxItems: 100 }),
    }),
    backoffUntil: str('Scale-up of this group is paused until then (failed launches or a provision timeout).', {
      format: 'date-time',
    }),
    backoffReason: str('Why the group is backing off.', { maxLength: 1024 }),
    nodeTemplate: obj(
      'The template the planner uses, after merging spec, launch template, instance-type facts and tags.',
      {
        source: str('Where it came from, e.g. launch-template, launch-configuration, mixed-instances or spec.', {
          maxLength: 64,
        }),
        instanceTypes: arr('Instance types considered.', str('Instance type.', { maxLength: 64 }), {
          maxItems: 40,
          listType: 'set',
        }),
        zones: arr('Zones.', str('Zone.', { maxLength: 64 }), { maxItems: 16, listType: 'set' }),
        capacity: resourceMap('Capacity of a new node.'),
        allocatable: resourceMap('Allocatable of a new node, after reservations and DaemonSet overhead.'),
        labels: map('Labels of a new node.', str('Label value.', { maxLength: 63 }), { maxProperties: 64 }),
        taints: arr('Taints of a new node.', taint, { maxItems: 32, listType: 'map', mapKeys: ['key', 'effect'] }),
        maxPods: int('Pods per node.', { minimum: 0 }),
      },
      { tsName: 'NodeTemplateStatus' },
    ),
  },
  { tsName: 'NodeGroupStatus' },
);

export const nodeGroupSource: KindSource = {
  ...NODE_GROUP,
  shortNames: [...NODE_GROUP.shortNames],
  categories: [CATEGORY],
  component: 'scaler-operator',
  description:
    'NodeGroup is one Auto Scaling Group the kube-iaas scaler-operator scales: it raises the desired capacity for pods the scheduler cannot place and removes idle nodes. Cluster-scoped, named after the ASG.',
  spec,
  status,
  printerColumns: [
    { name: 'ASG', type: 'string', jsonPath: '.spec.asgName', description: 'Auto Scaling Group.' },
    { name: 'Min', type: 'integer', jsonPath: '.status.minSize', description: 'Effective minimum.' },
    { name: 'Max', type: 'integer', jsonPath: '.status.maxSize', description: 'Effective maximum.' },
    { name: 'Desired', type: 'integer', jsonPath: '.status.desired', description: 'Desired capacity.' },
    { name: 'Ready', type: 'integer', jsonPath: '.status.ready', description: 'Nodes ready.' },
    { name: 'Upcoming', type: 'integer', jsonPath: '.status.upcoming', description: 'Nodes not joined yet.' },
    {
      name: 'Last-Scale-Up',
      type: 'date',
      jsonPath: '.status.lastScaleUp.time',
      description: 'Time of the last scale-up.',
      priority: 1,
    },
    {
      name: 'Synced',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Synced")].status',
      description: 'Whether the last reconcile succeeded.',
      priority: 1,
    },
    { ...reasonColumn, jsonPath: '.status.conditions[?(@.type=="Synced")].reason', description: 'Reason of the Synced condition.' },
    ageColumn,
  ],
  selectableFields: ['.spec.asgName'],
};
