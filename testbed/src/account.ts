import type {
  EC2Client} from '@aws-sdk/client-ec2';
import {
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  AssociateRouteTableCommand,
  CreateInternetGatewayCommand,
  CreateLaunchTemplateCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  type Filter,
  type Tag,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import type { AutoScalingClient} from '@aws-sdk/client-auto-scaling';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';

/**
 * The article's AWS account (brief §2): one VPC, public and private subnets in two AZs, a
 * cluster security group and an untagged baseline one, three nodes and an ASG for §7. Everything is
 * created through the AWS API, exactly as an operator would find it in a real account; every step
 * looks its resource up by the testbed's marker tag first, so seeding twice changes nothing.
 */
export const CLUSTER_NAME = 'int32bit-kubernetes';
export const VPC_CIDR = '192.168.192.0/22';
const MARK = 'kube-iaas.dev/testbed';
const clusterTags = (cluster: string): Tag[] => [
  { Key: 'KubernetesCluster', Value: cluster },
  { Key: `kubernetes.io/cluster/${cluster}`, Value: 'owned' },
];

export interface SeededAccount {
  region: string;
  vpcId: string;
  zones: string[];
  subnets: { id: string; zone: string; role: 'public' | 'private'; cidr: string }[];
  clusterSecurityGroupId: string;
  baselineSecurityGroupId: string;
  instanceIds: string[];
  asgName: string;
  launchTemplateName: string;
}

export const NODE_PLAN = [
  { mark: 'node-1', zoneIndex: 0, type: 'c5.large', ip: '192.168.193.194' },
  { mark: 'node-2', zoneIndex: 0, type: 'c5.xlarge', ip: '192.168.193.20' },
  { mark: 'node-3', zoneIndex: 1, type: 'c5.large', ip: '192.168.195.30' },
] as const;

// The image id is a placeholder: moto does not boot images, and the node simulator plays the
// part the prepared image's kubelet would play.
const IMAGE_ID = 'ami-0k8s137node0000';

const USER_DATA = Buffer.from(
  ['#!/bin/bash', '# joins the node to the cluster; the testbed node simulator stands in for this kubelet', 'exec /etc/eks/bootstrap.sh int32bit-kubernetes', ''].join('\n'),
).toString('base64');

function byMark(value: string): Filter[] {
  return [{ Name: `tag:${MARK}`, Values: [value] }];
}

function tagSpec(type: string, mark: string, cluster: string | undefined, extra: Tag[] = []) {
  const tags: Tag[] = [{ Key: MARK, Value: mark }, { Key: 'Name', Value: mark }, ...(cluster ? clusterTags(cluster) : []), ...extra];
  return [{ ResourceType: type as never, Tags: tags }];
}

export async function seedAccount(ec2: EC2Client, asg: AutoScalingClient, region: string, cluster = CLUSTER_NAME): Promise<SeededAccount> {
  const zones = [`${region}a`, `${region}b`];

  let vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: byMark('vpc') }))).Vpcs?.[0]?.VpcId;
  if (!vpcId) {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: VPC_CIDR, TagSpecifications: tagSpec('vpc', 'vpc', cluster) }));
    vpcId = vpc.Vpc!.VpcId!;
    // Internet-facing load balancers need a route to an internet gateway from their public subnets.
    const igw = await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpec('internet-gateway', 'igw', cluster) }));
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGateway!.InternetGatewayId!, VpcId: vpcId }));
    const rt = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tagSpec('route-table', 'public-rt', cluster) }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: rt.RouteTable!.RouteTableId!, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGateway!.InternetGatewayId! }));
  }

  const subnetPlan = [
    { mark: 'public-a', zone: zones[0]!, role: 'public' as const, cidr: '192.168.192.0/24' },
    { mark: 'private-a', zone: zones[0]!, role: 'private' as const, cidr: '192.168.193.0/24' },
    { mark: 'public-b', zone: zones[1]!, role: 'public' as const, cidr: '192.168.194.0/24' },
    { mark: 'private-b', zone: zones[1]!, role: 'private' as const, cidr: '192.168.195.0/24' },
  ];
  const subnets: SeededAccount['subnets'] = [];
  for (const s of subnetPlan) {
    let id = (await ec2.send(new DescribeSubnetsCommand({ Filters: byMark(s.mark) }))).Subnets?.[0]?.SubnetId;
    if (!id) {
      const roleTag = s.role === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb';
      const created = await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: s.cidr, AvailabilityZone: s.zone, TagSpecifications: tagSpec('subnet', s.mark, cluster, [{ Key: roleTag, Value: '1' }]) }),
      );
      id = created.Subnet!.SubnetId!;
      if (s.role === 'public') {
        const rt = (await ec2.send(new DescribeRouteTablesCommand({ Filters: byMark('public-rt') }))).RouteTables?.[0]?.RouteTableId;
        if (rt) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: id }));
      }
    }
    subnets.push({ id, zone: s.zone, role: s.role, cidr: s.cidr });
  }

  const sg = async (mark: string, description: string, tagged: boolean) => {
    const found = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: byMark(mark) }))).SecurityGroups?.[0]?.GroupId;
    if (found) return found;
    const created = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: mark, Description: description, VpcId: vpcId, TagSpecifications: tagSpec('security-group', mark, tagged ? cluster : undefined) }),
    );
    const id = created.GroupId!;
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id, Description: 'node to node' }] }] }));
    return id;
  };
  const clusterSecurityGroupId = await sg(`${cluster}-node`, `Nodes of ${cluster}`, true);
  // The brief's bastion-style group: on every node, tagged for no cluster, so no operator may touch it.
  const baselineSecurityGroupId = await sg('baseline', 'Baseline access (bastion); never managed by Kubernetes', false);

  const instanceIds: string[] = [];
  for (const n of NODE_PLAN) {
    const existing = (
      await ec2.send(new DescribeInstancesCommand({ Filters: [...byMark(n.mark), { Name: 'instance-state-name', Values: ['pending', 'running'] }] }))
    ).Reservations?.flatMap((r) => r.Instances ?? [])[0]?.InstanceId;
    if (existing) {
      instanceIds.push(existing);
      continue;
    }
    const subnet = subnets.find((s) => s.role === 'private' && s.zone === zones[n.zoneIndex])!;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE_ID,
        InstanceType: n.type as _InstanceType,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.id,
        PrivateIpAddress: n.ip,
        SecurityGroupIds: [clusterSecurityGroupId, baselineSecurityGroupId],
        UserData: USER_DATA,
        TagSpecifications: tagSpec('instance', n.mark, cluster),
      }),
    );
    instanceIds.push(run.Instances![0]!.InstanceId!);
  }

  const launchTemplateName = `${cluster}-node`;
  const lt = await ec2
    .send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [launchTemplateName] }))
    .then((r) => r.LaunchTemplates?.[0])
    .catch(() => undefined);
  if (!lt) {
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: launchTemplateName,
        LaunchTemplateData: { ImageId: IMAGE_ID, InstanceType: 'c5.large', SecurityGroupIds: [clusterSecurityGroupId, baselineSecurityGroupId], UserData: USER_DATA },
        TagSpecifications: tagSpec('launch-template', 'launch-template', cluster),
      }),
    );
  }

  const asgName = `${cluster}-nodes`;
  const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }));
  if (!groups.AutoScalingGroups?.length) {
    const propagate = (Key: string, Value: string, PropagateAtLaunch: boolean) => ({ Key, Value, PropagateAtLaunch, ResourceId: asgName, ResourceType: 'auto-scaling-group' });
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: asgName,
        LaunchTemplate: { LaunchTemplateName: launchTemplateName, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnets.filter((s) => s.role === 'private').map((s) => s.id).join(','),
        Tags: [
          propagate('k8s.io/cluster-autoscaler/enabled', 'true', false),
          propagate(`k8s.io/cluster-autoscaler/${cluster}`, 'owned', false),
          propagate('KubernetesCluster', cluster, true),
          propagate(`kubernetes.io/cluster/${cluster}`, 'owned', true),
          propagate(MARK, 'asg-node', true),
        ],
      }),
    );
  }

  return { region, vpcId, zones, subnets, clusterSecurityGroupId, baselineSecurityGroupId, instanceIds, asgName, launchTemplateName };
}

