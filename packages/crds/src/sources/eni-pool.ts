// EniPool: one Node's pool of ENIs and secondary IPs, and which pod holds which address (issue 8).
import { arr, int, obj, rule, str, transitionRule } from '../schema.ts';
import {
  CATEGORY,
  ENI_ID,
  INSTANCE_ID,
  INSTANCE_TYPE,
  SECURITY_GROUP_ID,
  SUBNET_ID,
  ageColumn,
  has,
  readyColumn,
  reasonColumn,
  statusCommon,
} from './common.ts';
import type { KindSource } from './common.ts';

export const ENI_POOL_VERSION = 'v1alpha1';

export const ENI_POOL = {
  group: 'network.kube-iaas.dev',
  version: ENI_POOL_VERSION,
  apiVersion: `network.kube-iaas.dev/${ENI_POOL_VERSION}`,
  kind: 'EniPool',
  listKind: 'EniPoolList',
  plural: 'enipools',
  singular: 'enipool',
  shortNames: ['enipool'],
  scope: 'Cluster',
  crdName: 'enipools.network.kube-iaas.dev',
  finalizer: 'network.kube-iaas.dev/finalizer',
} as const;

/** Pod annotation carrying the address the pool gave the pod (read by the node simulator / data plane). */
export const POD_IP_ANNOTATION = 'network.kube-iaas.dev/ip';

const MAX_ADDRESSES = 1024;

const spec = obj(
  'Desired pool for one Node. Written by the eni-operator from the Node, or applied by hand (for example to give one node different warm targets).',
  {
    instanceId: str('EC2 instance of the Node (from its spec.providerID). Immutable.', {
      pattern: INSTANCE_ID,
      rules: [transitionRule('self == oldSelf', 'spec.instanceId is immutable')],
    }),
    instanceType: str('Instance type, e.g. c5.large; decides the ENI limit and the IPs per ENI.', {
      maxLength: 64,
      pattern: INSTANCE_TYPE,
    }),
    subnetId: str(
      'Subnet for new ENIs. Defaults to the subnet of the instance\'s primary ENI; set for custom networking (a per-AZ override).',
      { pattern: SUBNET_ID },
    ),
    securityGroupIds: arr(
      'Security groups for new ENIs. Defaults to those of the primary ENI.',
      str('Security group ID (sg-…).', { pattern: SECURITY_GROUP_ID }),
      { minItems: 1, maxItems: 16, listType: 'set' },
    ),
    warmEni: int('Spare ENIs\' worth of free addresses to keep ready (like the VPC CNI\'s WARM_ENI_TARGET). Ignored when warmIp or minimumIp is set.', {
      minimum: 0,
      maximum: 16,
      default: 1,
    }),
    warmIp: int('Free addresses to keep ready (like WARM_IP_TARGET). Takes precedence over warmEni.', {
      minimum: 0,
      maximum: MAX_ADDRESSES,
    }),
    minimumIp: int('Addresses the pool holds at least, used or free (like MINIMUM_IP_TARGET).', {
      minimum: 0,
      maximum: MAX_ADDRESSES,
    }),
    maxPodAddresses: int(
      'Upper bound on pod addresses for this node, below what the instance type allows (N ENIs x (M IPs - 1)).',
      { minimum: 1, maximum: MAX_ADDRESSES },
    ),
    shrinkPolicy: str(
      'What happens to free addresses above the warm targets once they have cooled down: Release returns single addresses, and whole idle ENIs, to the subnet; Keep holds them for the next burst of pods.',
      { enum: ['Release', 'Keep'], default: 'Release' },
    ),
    cooldownSeconds: int('How long a freed address rests before it is handed out again or released to the subnet.', {
      minimum: 0,
      maximum: 3600,
      default: 30,
    }),
  },
  {
    required: ['instanceId', 'instanceType'],
    tsName: 'EniPoolSpec',
    rules: [
      rule(
        'self.warmEni > 0 || (has(self.warmIp) && self.warmIp > 0) || (has(self.minimumIp) && self.minimumIp > 0)',
        'one of spec.warmEni, spec.warmIp or spec.minimumIp must be above 0, or the pool never holds a free address',
        (s) => s.warmEni > 0 || (has(s, 'warmIp') && s.warmIp > 0) || (has(s, 'minimumIp') && s.minimumIp > 0),
        { fieldPath: '.warmEni' },
      ),
      rule(
        '!has(self.minimumIp) || !has(self.maxPodAddresses) || self.minimumIp <= self.maxPodAddresses',
        'spec.minimumIp must not exceed spec.maxPodAddresses',
        (s) => !has(s, 'minimumIp') || !has(s, 'maxPodAddresses') || s.minimumIp <= s.maxPodAddresses,
        { fieldPath: '.minimumIp' },
      ),
      rule(
        '!has(self.warmIp) || !has(self.maxPodAddresses) || self.warmIp <= self.maxPodAddresses',
        'spec.warmIp must not exceed spec.maxPodAddresses',
        (s) => !has(s, 'warmIp') || !has(s, 'maxPodAddresses') || s.warmIp <= s.maxPodAddresses,
        { fieldPath: '.warmIp' },
      ),
    ],
  },
);

const ipv4 = (description: string) => str(description, { maxLength: 45 });

const eni = obj(
  'One ENI of the pool, attached to the instance.',
  {
    eniId: str('ENI ID (eni-…).', { pattern: ENI_ID }),
    attachmentId: str('Attachment ID (eni-attach-…).', { maxLength: 64 }),
    deviceIndex: int('Device index on the instance (0 is the primary ENI).', { minimum: 0, maximum: 127 }),
    networkCardIndex: int('Network card the ENI is attached through.', { minimum: 0, maximum: 63 }),
    subnetId: str('Subnet of the ENI.', { maxLength: 64 }),
    subnetCidr: str('CIDR of that subnet (the node data plane needs it for routing).', { maxLength: 64 }),
    macAddress: str('MAC address; how the node finds the interface.', { maxLength: 32 }),
    primaryIp: ipv4('Primary private IP of the ENI (never given to a pod).'),
    secondaryIps: arr('Secondary private IPs assigned to the ENI.', ipv4('A secondary private IP.'), {
      maxItems: 64,
      listType: 'set',
    }),
    used: int('Secondary IPs held by pods.', { minimum: 0 }),
    free: int('Secondary IPs ready to hand out.', { minimum: 0 }),
  },
  { required: ['eniId', 'deviceIndex'], tsName: 'EniPoolEni' },
);

const allocation = obj(
  'An address held by a pod; also the record the node data plane reads (the pod annotation network.kube-iaas.dev/ip carries the IP).',
  {
    ip: ipv4('The pod\'s address. The list is keyed by it, so the API server itself refuses to give one address to two pods.'),
    eniId: str('ENI the address belongs to.', { pattern: ENI_ID }),
    deviceIndex: int('Device index of that ENI.', { minimum: 0, maximum: 127 }),
    routeTable: int('Policy-routing table the node uses for traffic from this address (device index + 1; 254 = main for the primary ENI).', {
      minimum: 1,
      maximum: 4294967295,
    }),
    podNamespace: str('Namespace of the pod.', { maxLength: 63 }),
    podName: str('Name of the pod.', { maxLength: 253 }),
    podUid: str('UID of the pod.', { maxLength: 64 }),
    allocatedAt: str('When the address was handed out.', { format: 'date-time' }),
  },
  { required: ['ip', 'eniId', 'podNamespace', 'podName', 'podUid'], tsName: 'EniPoolAllocation' },
);

const cooling = obj(
  'An address released by a pod and resting for the cooldown.',
  {
    ip: ipv4('The address.'),
    eniId: str('ENI the address belongs to.', { pattern: ENI_ID }),
    releasedAt: str('When it was released.', { format: 'date-time' }),
  },
  { required: ['ip', 'eniId', 'releasedAt'], tsName: 'EniPoolCoolingAddress' },
);

const status = obj(
  'Observed pool, written by the eni-operator.',
  {
    ...statusCommon(),
    capacity: obj(
      'What the instance type allows: N ENIs x M IPs per ENI, N x (M - 1) pod addresses, N x (M - 1) + 2 max-pods (counting two host-network pods).',
      {
        maxEnis: int('ENI limit of the instance type (N).', { minimum: 0 }),
        ipsPerEni: int('IPv4 addresses per ENI (M), the primary included.', { minimum: 0 }),
        podAddresses: int('Pod addresses the node can hold: N x (M - 1).', { minimum: 0 }),
        maxPods: int('Recommended kubelet max-pods: N x (M - 1) + 2.', { minimum: 0 }),
      },
      { tsName: 'EniPoolCapacity' },
    ),
    summary: obj(
      'Counts for kubectl get.',
      {
        enis: int('ENIs attached.', { minimum: 0 }),
        addresses: int('Secondary addresses in the pool.', { minimum: 0 }),
        used: int('Addresses held by pods.', { minimum: 0 }),
        free: int('Addresses ready to hand out.', { minimum: 0 }),
        cooling: int('Addresses resting for the cooldown.', { minimum: 0 }),
      },
      { tsName: 'EniPoolSummary' },
    ),
    enis: arr('ENIs of the pool, by ID.', eni, { maxItems: 128, listType: 'map', mapKeys: ['eniId'] }),
    allocations: arr('Pod addresses, by IP.', allocation, { maxItems: MAX_ADDRESSES, listType: 'map', mapKeys: ['ip'] }),
    cooling: arr('Released addresses still cooling down, by IP.', cooling, {
      maxItems: MAX_ADDRESSES,
      listType: 'map',
      mapKeys: ['ip'],
    }),
  },
  { tsName: 'EniPoolStatus' },
);

export const eniPoolSource: KindSource = {
  ...ENI_POOL,
  shortNames: [...ENI_POOL.shortNames],
  categories: [CATEGORY],
  component: 'eni-operator',
  description:
    'EniPool is the pool of ENIs and secondary private IPs the kube-iaas eni-operator keeps on one Node\'s instance, and the record of which pod holds which address. Cluster-scoped, named after its Node and owned by it.',
  spec,
  status,
  printerColumns: [
    { name: 'Instance', type: 'string', jsonPath: '.spec.instanceId', description: 'EC2 instance.' },
    { name: 'Type', type: 'string', jsonPath: '.spec.instanceType', description: 'Instance type.' },
    { name: 'ENIs', type: 'integer', jsonPath: '.status.summary.enis', description: 'ENIs attached.' },
    { name: 'Used', type: 'integer', jsonPath: '.status.summary.used', description: 'Addresses held by pods.' },
    { name: 'Free', type: 'integer', jsonPath: '.status.summary.free', description: 'Addresses ready to hand out.' },
    { name: 'Capacity', type: 'integer', jsonPath: '.status.capacity.podAddresses', description: 'Pod addresses the node can hold.' },
    { name: 'Max-Pods', type: 'integer', jsonPath: '.status.capacity.maxPods', description: 'Recommended kubelet max-pods.', priority: 1 },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
  selectableFields: ['.spec.instanceId'],
};
