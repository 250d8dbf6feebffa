import {
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVolumes,
  type EC2Client,
  type Filter,
  type Instance as SdkInstance,
  type NetworkInterface as SdkNetworkInterface,
  type SecurityGroup as SdkSecurityGroup,
  type SecurityGroupRule as SdkSecurityGroupRule,
  type Subnet as SdkSubnet,
  type Volume as SdkVolume,
} from '@aws-sdk/client-ec2';
import { selectClusterSecurityGroups, selectLoadBalancerSubnets } from '../tags/discovery.ts';
import { clusterTaggedFilterSets, subnetRoleFilters, tagsFromAws, type LoadBalancerScheme, type Tags } from '../tags/tags.ts';

// --- domain types -------------------------------------------------------------------------------

export interface Subnet {
  id: string;
  vpcId: string;
  availabilityZone: string;
  availabilityZoneId?: string;
  cidrBlock: string;
  availableIpAddressCount: number;
  mapPublicIpOnLaunch: boolean;
  tags: Tags;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId?: string;
  tags: Tags;
}

export interface SecurityGroupRule {
  id: string;
  groupId: string;
  egress: boolean;
  /** `-1` for all protocols, else `tcp`, `udp`, `icmp` or a number. */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface InstanceNetworkInterface {
  id: string;
  deviceIndex: number;
  attachmentId?: string;
  privateIpAddresses: string[];
}

/** One entry of an instance's block-device mappings (root and attached EBS volumes). */
export interface InstanceBlockDevice {
  /** As mapped: `/dev/xvda`, `/dev/sda1`, `/dev/xvdba`. */
  deviceName: string;
  volumeId?: string;
  /** `attaching`, `attached`, `detaching`, `detached`. */
  status?: string;
  deleteOnTermination?: boolean;
}

export interface Instance {
  id: string;
  instanceType: string;
  state: string;
  availabilityZone?: string;
  subnetId?: string;
  vpcId?: string;
  privateIpAddress?: string;
  privateDnsName?: string;
  launchTime?: Date;
  securityGroupIds: string[];
  networkInterfaces: InstanceNetworkInterface[];
  /** The root volume's device name (not counted as a data volume in EBS attachment slots). */
  rootDeviceName?: string;
  /** Block-device mappings in device-name order: the device names taken on the instance. */
  blockDevices: InstanceBlockDevice[];
  tags: Tags;
}

export interface VolumeAttachment {
  instanceId: string;
  device?: string;
  state: string;
  deleteOnTermination?: boolean;
}

export interface Volume {
  id: string;
  availabilityZone: string;
  sizeGiB: number;
  volumeType: string;
  iops?: number;
  throughput?: number;
  state: string;
  encrypted: boolean;
  kmsKeyId?: string;
  snapshotId?: string;
  createTime?: Date;
  attachments: VolumeAttachment[];
  tags: Tags;
}

export interface NetworkInterface {
  id: string;
  subnetId: string;
  vpcId?: string;
  availabilityZone?: string;
  status: string;
  description?: string;
  macAddress?: string;
  primaryPrivateIpAddress?: string;
  /** All private IPv4 addresses, the primary first. */
  privateIpAddresses: string[];
  securityGroupIds: string[];
  attachment?: { id?: string; instanceId?: string; deviceIndex?: number; status?: string; deleteOnTermination?: boolean };
  tags: Tags;
}

// --- mapping --------------------------------------------------------------------------------------

export function def<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function toSubnet(s: SdkSubnet): Subnet {
  return def({
    id: s.SubnetId ?? '',
    vpcId: s.VpcId ?? '',
    availabilityZone: s.AvailabilityZone ?? '',
    availabilityZoneId: s.AvailabilityZoneId,
    cidrBlock: s.CidrBlock ?? '',
    availableIpAddressCount: s.AvailableIpAddressCount ?? 0,
    mapPublicIpOnLaunch: s.MapPublicIpOnLaunch ?? false,
    tags: tagsFromAws(s.Tags),
  });
}

export function toSecurityGroup(g: SdkSecurityGroup): SecurityGroup {
  return def({ id: g.GroupId ?? '', name: g.GroupName ?? '', description: g.Description ?? '', vpcId: g.VpcId, tags: tagsFromAws(g.Tags) });
}

export function toSecurityGroupRule(r: SdkSecurityGroupRule): SecurityGroupRule {
  return def({
    id: r.SecurityGroupRuleId ?? '',
    groupId: r.GroupId ?? '',
    egress: r.IsEgress ?? false,
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort,
    toPort: r.ToPort,
    cidrIpv4: r.CidrIpv4,
    cidrIpv6: r.CidrIpv6,
    referencedGroupId: r.ReferencedGroupInfo?.GroupId,
    prefixListId: r.PrefixListId,
    description: r.Description,
  });
}

export function toInstance(i: SdkInstance): Instance {
  return def({
    id: i.InstanceId ?? '',
    instanceType: i.InstanceType ?? '',
    state: i.State?.Name ?? 'unknown',
    availabilityZone: i.Placement?.AvailabilityZone,
    subnetId: i.SubnetId,
    vpcId: i.VpcId,
    privateIpAddress: i.PrivateIpAddress,
    privateDnsName: i.PrivateDnsName,
    launchTime: i.LaunchTime,
    securityGroupIds: (i.SecurityGroups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
    networkInterfaces: (i.NetworkInterfaces ?? [])
      .map((n) =>
        def({
          id: n.NetworkInterfaceId ?? '',
          deviceIndex: n.Attachment?.DeviceIndex ?? 0,
          attachmentId: n.Attachment?.AttachmentId,
          privateIpAddresses: (n.PrivateIpAddresses ?? []).flatMap((p) => (p.PrivateIpAddress ? [p.PrivateIpAddress] : [])),
        }),
      )
      .sort((a, b) => a.deviceIndex - b.deviceIndex),
    rootDeviceName: i.RootDeviceName,
    blockDevices: (i.BlockDeviceMappings ?? [])
      .flatMap((b) =>
        b.DeviceName ? [def({ deviceName: b.DeviceName, volumeId: b.Ebs?.VolumeId, status: b.Ebs?.Status, deleteOnTermination: b.Ebs?.DeleteOnTermination })] : [],
      )
      .sort((a, b) => (a.deviceName < b.deviceName ? -1 : a.deviceName > b.deviceName ? 1 : 0)),
    tags: tagsFromAws(i.Tags),
  });
}

export function toVolume(v: SdkVolume): Volume {
  return def({
    id: v.VolumeId ?? '',
    availabilityZone: v.AvailabilityZone ?? '',
    sizeGiB: v.Size ?? 0,
    volumeType: v.VolumeType ?? '',
    iops: v.Iops,
    throughput: v.Throughput,
    state: v.State ?? 'unknown',
    encrypted: v.Encrypted ?? false,
    kmsKeyId: v.KmsKeyId,
    snapshotId: v.SnapshotId || undefined,
    createTime: v.CreateTime,
    attachments: (v.Attachments ?? []).map((a) => def({ instanceId: a.InstanceId ?? '', device: a.Device, state: a.State ?? 'unknown', deleteOnTermination: a.DeleteOnTermination })),
    tags: tagsFromAws(v.Tags),
  });
}

export function toNetworkInterface(n: SdkNetworkInterface): NetworkInterface {
  const ips = [...(n.PrivateIpAddresses ?? [])].sort((a, b) => Number(b.Primary ?? false) - Number(a.Primary ?? false));
  return def({
    id: n.NetworkInterfaceId ?? '',
    subnetId: n.SubnetId ?? '',
    vpcId: n.VpcId,
    availabilityZone: n.AvailabilityZone,
    status: n.Status ?? 'unknown',
    description: n.Description,
    macAddress: n.MacAddress,
    primaryPrivateIpAddress: n.PrivateIpAddress,
    privateIpAddresses: ips.flatMap((p) => (p.PrivateIpAddress ? [p.PrivateIpAddress] : [])),
    securityGroupIds: (n.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
    attachment: n.Attachment
      ? def({
          id: n.Attachment.AttachmentId,
          instanceId: n.Attachment.InstanceId,
          deviceIndex: n.Attachment.DeviceIndex,
          status: n.Attachment.Status,
          deleteOnTermination: n.Attachment.DeleteOnTermination,
        })
      : undefined,
    tags: tagsFromAws(n.TagSet),
  });
}

// --- EC2 describes ----------------------------------------------------------------------------------

/**
 * What to describe: by IDs, by filters (ANDed), and/or `anyOf` filter sets whose results are merged
 * by ID (e.g. `clusterTaggedFilterSets()` for the current and the legacy cluster tag).
 */
export interface Ec2Query {
  ids?: string[];
  filters?: Filter[];
  anyOf?: Filter[][];
}

const PAGE = 1000;

async function queryEc2<T extends { id: string }>(q: Ec2Query, run: (ids: string[] | undefined, filters: Filter[] | undefined) => Promise<T[]>): Promise<T[]> {
  const sets = q.anyOf?.length ? q.anyOf.map((f) => [...(q.filters ?? []), ...f]) : [q.filters];
  const byId = new Map<string, T>();
  for (const filters of sets) {
    for (const item of await run(q.ids?.length ? q.ids : undefined, filters?.length ? filters : undefined)) byId.set(item.id, item);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** EC2 rejects MaxResults together with explicit IDs on some calls, so page only unfiltered-by-ID queries. */
const pageSize = (ids: string[] | undefined) => (ids ? {} : { pageSize: PAGE });

export function describeSubnets(ec2: EC2Client, q: Ec2Query = {}): Promise<Subnet[]> {
  return queryEc2(q, async (ids, Filters) => {
    const out: Subnet[] = [];
    for await (const page of paginateDescribeSubnets({ client: ec2, ...pageSize(ids) }, { SubnetIds: ids, Filters })) out.push(...(page.Subnets ?? []).map(toSubnet));
    return out;
  });
}

export function describeSecurityGroups(ec2: EC2Client, q: Ec2Query = {}): Promise<SecurityGroup[]> {
  return queryEc2(q, async (ids, Filters) => {
    const out: SecurityGroup[] = [];
    for await (const page of paginateDescribeSecurityGroups({ client: ec2, ...pageSize(ids) }, { GroupIds: ids, Filters })) out.push(...(page.SecurityGroups ?? []).map(toSecurityGroup));
    return out;
  });
}

export async function describeSecurityGroupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const out: SecurityGroupRule[] = [];
  for await (const page of paginateDescribeSecurityGroupRules({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: [groupId] }] })) {
    out.push(...(page.SecurityGroupRules ?? []).map(toSecurityGroupRule));
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function describeInstances(ec2: EC2Client, q: Ec2Query = {}): Promise<Instance[]> {
  return queryEc2(q, async (ids, Filters) => {
    const out: Instance[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, ...pageSize(ids) }, { InstanceIds: ids, Filters })) {
      for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []).map(toInstance));
    }
    return out;
  });
}

export function describeVolumes(ec2: EC2Client, q: Ec2Query = {}): Promise<Volume[]> {
  return queryEc2(q, async (ids, Filters) => {
    const out: Volume[] = [];
    for await (const page of paginateDescribeVolumes({ client: ec2, ...pageSize(ids) }, { VolumeIds: ids, Filters })) out.push(...(page.Volumes ?? []).map(toVolume));
    return out;
  });
}

export function describeNetworkInterfaces(ec2: EC2Client, q: Ec2Query = {}): Promise<NetworkInterface[]> {
  return queryEc2(q, async (ids, Filters) => {
    const out: NetworkInterface[] = [];
    for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, ...pageSize(ids) }, { NetworkInterfaceIds: ids, Filters })) {
      out.push(...(page.NetworkInterfaces ?? []).map(toNetworkInterface));
    }
    return out;
  });
}

// --- discovery ----------------------------------------------------------------------------------

/** Subnets for a load balancer in `vpcId`: role-tagged subnets, then `selectLoadBalancerSubnets`. */
export async function discoverLoadBalancerSubnets(ec2: EC2Client, opts: { cluster: string; scheme: LoadBalancerScheme; vpcId: string }): Promise<Subnet[]> {
  const subnets = await describeSubnets(ec2, { filters: [{ Name: 'vpc-id', Values: [opts.vpcId] }, ...subnetRoleFilters(opts.scheme)] });
  return selectLoadBalancerSubnets(subnets, opts);
}

/** The cluster's security groups (by the current or legacy cluster tag), split into owned and shared. */
export async function discoverClusterSecurityGroups(ec2: EC2Client, opts: { cluster: string; vpcId?: string }): Promise<{ owned: SecurityGroup[]; shared: SecurityGroup[] }> {
  const groups = await describeSecurityGroups(ec2, {
    ...(opts.vpcId ? { filters: [{ Name: 'vpc-id', Values: [opts.vpcId] }] } : {}),
    anyOf: clusterTaggedFilterSets(opts.cluster),
  });
  return selectClusterSecurityGroups(groups, opts.cluster);
}
