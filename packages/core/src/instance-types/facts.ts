import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';

/** ENI and address limits: the input of the pod-capacity formulas. */
export interface EniLimits {
  /** Network interfaces the instance type can have attached (N). */
  maxEnis: number;
  /** Private IPv4 addresses per interface, the interface's primary included (M). */
  ipv4PerEni: number;
}

export interface EbsLimits {
  /**
   * `shared`: one pool of attachment slots for network interfaces, EBS volumes and NVMe
   * instance-store volumes (most Nitro types). `dedicated`: EBS volumes have their own limit.
   */
  attachmentLimitType: 'shared' | 'dedicated';
  /**
   * `shared`: total slots (e.g. 28 on most Nitro types). `dedicated`: EBS volumes, root included.
   * Use `ebsVolumeSlots()` to get what is left for data volumes.
   */
  maxAttachments: number;
  /** Where the number came from: DescribeInstanceTypes (`api`) or the rules below (`assumed`). */
  source: 'api' | 'assumed';
}

/** What kube-iaas needs to know about an instance type, in one place for all operators. */
export interface InstanceTypeFacts extends EniLimits {
  instanceType: string;
  vcpus: number;
  memoryMiB: number;
  ipv6PerEni: number;
  hypervisor: 'nitro' | 'xen' | 'unknown';
  bareMetal: boolean;
  architectures: string[];
  /** NVMe instance-store volumes; they take attachment slots on shared-limit types. */
  instanceStoreVolumes: number;
  ebs: EbsLimits;
  /** `maxPods()` of this type. */
  maxPods: number;
  /** `podAddressCapacity()` of this type. */
  podAddressCapacity: number;
}

/**
 * The VPC-native max-pods formula: N × (M − 1) + 2. Each ENI's primary address is not given to
 * pods; the +2 is for host-network pods (kube-proxy, the node agent). c5.large (3 × 10) → 29,
 * c5.xlarge (4 × 15) → 58.
 */
export function maxPods(limits: EniLimits): number {
  assertLimits(limits);
  return limits.maxEnis * (limits.ipv4PerEni - 1) + 2;
}

/**
 * Addresses the ENI pool can hand to pods: N × M − N (every ENI's primary address is the ENI's
 * own). The article's figures: c5.large 3 × 10 → 27, c5.xlarge 4 × 15 → 56.
 */
export function podAddressCapacity(limits: EniLimits): number {
  assertLimits(limits);
  return limits.maxEnis * limits.ipv4PerEni - limits.maxEnis;
}

function assertLimits(l: EniLimits): void {
  if (!Number.isInteger(l.maxEnis) || !Number.isInteger(l.ipv4PerEni) || l.maxEnis < 1 || l.ipv4PerEni < 1) {
    throw new Error(`ENI limits must be positive integers, got maxEnis=${l.maxEnis} ipv4PerEni=${l.ipv4PerEni}`);
  }
}

/** Attachment slots shared by ENIs, EBS and NVMe instance store on most Nitro types. */
export const NITRO_SHARED_ATTACHMENT_SLOTS = 28;
/** EBS volumes on Xen types (the EBS CSI driver's figure: 40 recommended, one kept back). */
export const XEN_EBS_VOLUME_LIMIT = 39;

/**
 * EBS attachment limits. Assumptions, in order:
 * 1. DescribeInstanceTypes' `EbsInfo.MaximumEbsAttachments` + `AttachmentLimitType` when present. For
 *    `shared`, AWS reports the count left with only the primary ENI attached (27 on c5.large), so the
 *    total pool is that + 1.
 * 2. Otherwise Nitro: 28 shared slots (ENIs + EBS volumes + NVMe instance-store volumes).
 * 3. Otherwise Xen: 39 dedicated EBS volumes.
 */
export function ebsLimitsOf(info: Pick<InstanceTypeInfo, 'EbsInfo' | 'Hypervisor' | 'BareMetal'>): EbsLimits {
  const reported = info.EbsInfo?.MaximumEbsAttachments;
  const type = info.EbsInfo?.AttachmentLimitType;
  if (reported !== undefined && reported > 0 && (type === 'shared' || type === 'dedicated')) {
    return { attachmentLimitType: type, maxAttachments: type === 'shared' ? reported + 1 : reported, source: 'api' };
  }
  if (info.Hypervisor === 'nitro' || info.BareMetal) return { attachmentLimitType: 'shared', maxAttachments: NITRO_SHARED_ATTACHMENT_SLOTS, source: 'assumed' };
  return { attachmentLimitType: 'dedicated', maxAttachments: XEN_EBS_VOLUME_LIMIT, source: 'assumed' };
}

/**
 * EBS data volumes that can still be attached: on shared-limit types the pool minus attached ENIs
 * and NVMe instance-store volumes; minus `reservedVolumes` (the root volume, default 1) on both.
 * The volume operator publishes this as the node's CSI attach limit.
 */
export function ebsVolumeSlots(facts: Pick<InstanceTypeFacts, 'ebs' | 'instanceStoreVolumes'>, opts: { attachedEnis: number; reservedVolumes?: number }): number {
  const reserved = opts.reservedVolumes ?? 1;
  const pool = facts.ebs.attachmentLimitType === 'shared' ? facts.ebs.maxAttachments - opts.attachedEnis - facts.instanceStoreVolumes : facts.ebs.maxAttachments;
  return Math.max(0, pool - reserved);
}

/** Maps DescribeInstanceTypes output to facts; throws naming a missing field. */
export function instanceTypeFactsFromSdk(info: InstanceTypeInfo): InstanceTypeFacts {
  const instanceType = info.InstanceType;
  const maxEnis = info.NetworkInfo?.MaximumNetworkInterfaces;
  const ipv4PerEni = info.NetworkInfo?.Ipv4AddressesPerInterface;
  if (!instanceType) throw new Error('DescribeInstanceTypes returned an entry without InstanceType');
  if (!maxEnis || !ipv4PerEni) throw new Error(`instance type ${instanceType}: DescribeInstanceTypes gave no MaximumNetworkInterfaces / Ipv4AddressesPerInterface`);
  const limits = { maxEnis, ipv4PerEni };
  const hv = info.Hypervisor;
  const nvmeStore =
    info.InstanceStorageInfo && info.InstanceStorageInfo.NvmeSupport !== 'unsupported' ? (info.InstanceStorageInfo.Disks ?? []).reduce((n, d) => n + (d.Count ?? 0), 0) : 0;
  return {
    instanceType,
    vcpus: info.VCpuInfo?.DefaultVCpus ?? 0,
    memoryMiB: info.MemoryInfo?.SizeInMiB ?? 0,
    maxEnis,
    ipv4PerEni,
    ipv6PerEni: info.NetworkInfo?.Ipv6AddressesPerInterface ?? 0,
    hypervisor: hv === 'nitro' || hv === 'xen' ? hv : info.BareMetal ? 'nitro' : 'unknown',
    bareMetal: info.BareMetal ?? false,
    architectures: info.ProcessorInfo?.SupportedArchitectures ?? [],
    instanceStoreVolumes: nvmeStore,
    ebs: ebsLimitsOf(info),
    maxPods: maxPods(limits),
    podAddressCapacity: podAddressCapacity(limits),
  };
}
