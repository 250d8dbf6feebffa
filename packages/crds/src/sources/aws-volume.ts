// AwsVolume: one EBS volume. Translated from a PVC of an `ebs.kube-iaas.dev` StorageClass (issue 5), or
// applied by hand to pre-create a volume or import an existing one by ID.
import { arr, bool, int, obj, rule, str, transitionRule } from '../schema.ts';
import type { RuleDef } from '../schema.ts';
import {
  AZ_PATTERN,
  CATEGORY,
  DNS_LABEL,
  INSTANCE_ID,
  VOLUME_ID,
  ageColumn,
  awsTags,
  has,
  objectName,
  readyColumn,
  reasonColumn,
  statusCommon,
} from './common.ts';
import type { KindSource } from './common.ts';

export const AWS_VOLUME_VERSION = 'v1alpha1';

export const AWS_VOLUME = {
  group: 'storage.kube-iaas.dev',
  version: AWS_VOLUME_VERSION,
  apiVersion: `storage.kube-iaas.dev/${AWS_VOLUME_VERSION}`,
  kind: 'AwsVolume',
  listKind: 'AwsVolumeList',
  plural: 'awsvolumes',
  singular: 'awsvolume',
  shortNames: ['awsvol'],
  scope: 'Cluster',
  crdName: 'awsvolumes.storage.kube-iaas.dev',
  finalizer: 'storage.kube-iaas.dev/finalizer',
} as const;

export const VOLUME_TYPES = ['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

export interface VolumeTypeLimits {
  minGiB: number;
  maxGiB: number;
  /** Provisioned IOPS: allowed range, and the most per GiB of size (gp3 always allows its 3000 baseline). */
  iops?: { min: number; max: number; perGiB: number };
}

/** EBS limits per volume type, enforced by the CRD (CEL) and by the validators. */
export const VOLUME_TYPE_LIMITS: Record<VolumeType, VolumeTypeLimits> = {
  gp2: { minGiB: 1, maxGiB: 16384 },
  gp3: { minGiB: 1, maxGiB: 16384, iops: { min: 3000, max: 16000, perGiB: 500 } },
  io1: { minGiB: 4, maxGiB: 16384, iops: { min: 100, max: 64000, perGiB: 50 } },
  io2: { minGiB: 4, maxGiB: 65536, iops: { min: 100, max: 256000, perGiB: 1000 } },
  st1: { minGiB: 125, maxGiB: 16384 },
  sc1: { minGiB: 125, maxGiB: 16384 },
  standard: { minGiB: 1, maxGiB: 1024 },
};

const IOPS_TYPES = VOLUME_TYPES.filter((t) => VOLUME_TYPE_LIMITS[t].iops);
const celList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

// One size rule and up to two IOPS rules per type, so each message names the limit that applies.
const perTypeRules: RuleDef[] = VOLUME_TYPES.flatMap((t): RuleDef[] => {
  const l = VOLUME_TYPE_LIMITS[t];
  const out: RuleDef[] = [
    rule(
      `self.volumeType != '${t}' || (self.sizeGiB >= ${l.minGiB} && self.sizeGiB <= ${l.maxGiB})`,
      `spec.sizeGiB must be between ${l.minGiB} and ${l.maxGiB} for volumeType ${t}`,
      (s) => s.volumeType !== t || (s.sizeGiB >= l.minGiB && s.sizeGiB <= l.maxGiB),
      { fieldPath: '.sizeGiB' },
    ),
  ];
  if (l.iops) {
    const { min, max, perGiB } = l.iops;
    out.push(
      rule(
        `self.volumeType != '${t}' || !has(self.iops) || (self.iops >= ${min} && self.iops <= ${max})`,
        `spec.iops must be between ${min} and ${max} for volumeType ${t}`,
        (s) => s.volumeType !== t || !has(s, 'iops') || (s.iops >= min && s.iops <= max),
        { fieldPath: '.iops' },
      ),
    );
    // gp3's 3000 IOPS baseline is available at any size; above it, at most perGiB per GiB.
    const floor = t === 'gp3' ? min : 0;
    out.push(
      rule(
        `self.volumeType != '${t}' || !has(self.iops) || ${floor ? `self.iops <= ${floor} || ` : ''}self.iops <= self.sizeGiB * ${perGiB}`,
        `spec.iops may be at most ${perGiB} per GiB of spec.sizeGiB for volumeType ${t}`,
        (s) => s.volumeType !== t || !has(s, 'iops') || (floor > 0 && s.iops <= floor) || s.iops <= s.sizeGiB * perGiB,
        { fieldPath: '.iops' },
      ),
    );
  }
  return out;
});

const spec = obj(
  'Desired EBS volume. Written by the volume-operator from a PVC and its StorageClass, or by hand to pre-create a volume or to import an existing one (spec.volumeId).',
  {
    volumeId: str(
      'ID of an existing EBS volume to import instead of creating one (vol-…). Once set it cannot be changed or removed. The operator adopts the volume only if it is in this cluster\'s account and region and no other owner holds it: a volume tagged for another cluster, or carrying kube-iaas owner tags of another AwsVolume, is refused (Ready=False, reason Conflict) and left untouched.',
      { pattern: VOLUME_ID, rules: [transitionRule('self == oldSelf', 'spec.volumeId is immutable')] },
    ),
    availabilityZone: str(
      'Availability zone to create the volume in, e.g. cn-northwest-1a. Required unless spec.volumeId imports an existing volume. Immutable: EBS volumes cannot move between zones.',
      { maxLength: 64, pattern: AZ_PATTERN, rules: [transitionRule('self == oldSelf', 'spec.availabilityZone is immutable')] },
    ),
    sizeGiB: int(
      'Size in GiB (a PVC request is rounded up to whole GiB); for an imported volume, its current size, or more to expand it. Per-type limits apply: gp2/gp3/io1/st1/sc1 up to 16384, io2 up to 65536, standard up to 1024; io1/io2 at least 4, st1/sc1 at least 125. May grow (the volume is modified in place) but never shrink.',
      {
        minimum: 1,
        maximum: 65536,
        rules: [transitionRule('self >= oldSelf', 'spec.sizeGiB may grow but never shrink (EBS volumes cannot be made smaller)')],
      },
    ),
    volumeType: str('EBS volume type. gp3 is the default, as with the EBS CSI driver.', {
      enum: VOLUME_TYPES,
      default: 'gp3',
      tsName: 'VolumeType',
    }),
    iops: int(
      'Provisioned IOPS (gp3, io1, io2 only; required for io1 and io2). gp3: 3000-16000 and at most 500 per GiB above the 3000 baseline; io1: 100-64000 and at most 50 per GiB; io2: 100-256000 and at most 1000 per GiB. A StorageClass\'s iopsPerGB is multiplied out by the translator.',
      { minimum: 100, maximum: 256000 },
    ),
    throughput: int('Throughput in MiB/s (gp3 only), 125-1000.', { minimum: 125, maximum: 1000 }),
    encrypted: bool('Encrypt the volume. Cannot be changed after creation.', {
      default: false,
      rules: [transitionRule('self == oldSelf', 'spec.encrypted is immutable')],
    }),
    kmsKeyId: str(
      'KMS key (ID, alias or ARN) to encrypt with; the account\'s default EBS key when unset. Requires spec.encrypted: true.',
      { minLength: 1, maxLength: 2048, rules: [transitionRule('self == oldSelf', 'spec.kmsKeyId is immutable')] },
    ),
    fsType: str('Filesystem the node plugin formats the volume with on first use; written to the PV.', {
      enum: ['ext4', 'xfs'],
      default: 'ext4',
    }),
    reclaimPolicy: str(
      'What happens to the EBS volume when its PV is released: Delete removes it, Retain keeps it (and the status says so).',
      { enum: ['Delete', 'Retain'], default: 'Delete' },
    ),
    claimRef: obj(
      'The PersistentVolumeClaim this volume is provisioned for; the PV the operator creates is pre-bound to it. Unset for a volume pre-created by hand.',
      {
        namespace: str('Namespace of the claim.', { minLength: 1, maxLength: 63, pattern: DNS_LABEL }),
        name: objectName('claim'),
        uid: str('UID of the claim, so a recreated claim of the same name is not bound by mistake.', { maxLength: 64 }),
      },
      { required: ['namespace', 'name'], tsName: 'AwsVolumeClaimRef' },
    ),
    tags: awsTags('Extra tags for the EBS volume (a StorageClass\'s tagSpecification_N parameters).'),
  },
  {
    required: ['sizeGiB'],
    tsName: 'AwsVolumeSpec',
    rules: [
      rule(
        'has(self.volumeId) || has(self.availabilityZone)',
        'spec.availabilityZone is required unless spec.volumeId imports an existing volume',
        (s) => has(s, 'volumeId') || has(s, 'availabilityZone'),
        { fieldPath: '.availabilityZone', reason: 'FieldValueRequired' },
      ),
      rule(
        `!has(self.iops) || self.volumeType in ${celList(IOPS_TYPES)}`,
        `spec.iops is only allowed for volumeType ${IOPS_TYPES.join(', ')}`,
        (s) => !has(s, 'iops') || IOPS_TYPES.includes(s.volumeType),
        { fieldPath: '.iops', reason: 'FieldValueForbidden' },
      ),
      rule(
        "has(self.volumeId) || has(self.iops) || !(self.volumeType in ['io1', 'io2'])",
        'spec.iops is required for volumeType io1 and io2',
        (s) => has(s, 'volumeId') || has(s, 'iops') || !['io1', 'io2'].includes(s.volumeType),
        { fieldPath: '.iops', reason: 'FieldValueRequired' },
      ),
      rule(
        "!has(self.throughput) || self.volumeType == 'gp3'",
        'spec.throughput is only allowed for volumeType gp3',
        (s) => !has(s, 'throughput') || s.volumeType === 'gp3',
        { fieldPath: '.throughput', reason: 'FieldValueForbidden' },
      ),
      rule(
        '!has(self.kmsKeyId) || self.encrypted',
        'spec.kmsKeyId requires spec.encrypted: true',
        (s) => !has(s, 'kmsKeyId') || s.encrypted === true,
        { fieldPath: '.kmsKeyId' },
      ),
      ...perTypeRules,
      transitionRule('has(self.volumeId) || !has(oldSelf.volumeId)', 'spec.volumeId cannot be removed once set', {
        fieldPath: '.volumeId',
      }),
    ],
  },
);

const attachment = obj(
  'One attachment of the volume to an instance.',
  {
    instanceId: str('Instance the volume is attached to.', { pattern: INSTANCE_ID }),
    nodeName: str('Node of that instance.', { maxLength: 253 }),
    device: str('Device name used for the attachment, e.g. /dev/xvdba. On Nitro instances the node finds the NVMe device by the volume ID (serial "vol…" without the dash).', { maxLength: 64 }),
    state: str('EC2 attachment state: attaching, attached, detaching, detached or busy.', { maxLength: 32 }),
    attachTime: str('When the attachment started.', { format: 'date-time' }),
  },
  { required: ['instanceId'], tsName: 'AwsVolumeAttachment' },
);

const status = obj(
  'Observed state of the EBS volume, written by the volume-operator.',
  {
    ...statusCommon(),
    volumeId: str('ID of the EBS volume (vol-…); also the PV\'s CSI volumeHandle.', { pattern: VOLUME_ID }),
    state: str('EC2 volume state: creating, available, in-use, deleting, deleted or error.', { maxLength: 32 }),
    availabilityZone: str('Zone the volume is in.', { maxLength: 64 }),
    sizeGiB: int('Current size in GiB as reported by EC2.', { minimum: 0 }),
    volumeType: str('Current volume type as reported by EC2.', { maxLength: 32 }),
    iops: int('Current provisioned IOPS.', { minimum: 0 }),
    throughput: int('Current throughput in MiB/s.', { minimum: 0 }),
    encrypted: bool('Whether the volume is encrypted.'),
    persistentVolumeName: str('Name of the PersistentVolume created for this volume.', { maxLength: 253 }),
    attachments: arr('Instances the volume is attached to (one, unless multi-attach).', attachment, {
      maxItems: 16,
      listType: 'map',
      mapKeys: ['instanceId'],
    }),
    retained: bool('True when the PV was released with reclaimPolicy Retain and the volume was kept on purpose.'),
  },
  { tsName: 'AwsVolumeStatus' },
);

export const awsVolumeSource: KindSource = {
  ...AWS_VOLUME,
  shortNames: [...AWS_VOLUME.shortNames],
  categories: [CATEGORY],
  component: 'volume-operator',
  description:
    'AwsVolume is one EBS volume managed by the kube-iaas volume-operator: created (or imported) in an availability zone, exposed as a PersistentVolume of the ebs.kube-iaas.dev CSI driver, attached to the instance of the node that runs the pod, and deleted or retained with its PV. Cluster-scoped and named after the PV it produces.',
  spec,
  status,
  printerColumns: [
    { name: 'Volume', type: 'string', jsonPath: '.status.volumeId', description: 'EBS volume ID.' },
    { name: 'Type', type: 'string', jsonPath: '.spec.volumeType', description: 'EBS volume type.' },
    { name: 'Size', type: 'integer', jsonPath: '.spec.sizeGiB', description: 'Size in GiB.' },
    { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone', description: 'Availability zone.' },
    { name: 'State', type: 'string', jsonPath: '.status.state', description: 'EC2 volume state.' },
    {
      name: 'Instance',
      type: 'string',
      jsonPath: '.status.attachments[0].instanceId',
      description: 'Instance the volume is attached to.',
      priority: 1,
    },
    {
      name: 'Claim',
      type: 'string',
      jsonPath: '.spec.claimRef.name',
      description: 'PersistentVolumeClaim the volume is for.',
      priority: 1,
    },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
  selectableFields: ['.spec.claimRef.namespace', '.spec.claimRef.name', '.status.volumeId'],
};
