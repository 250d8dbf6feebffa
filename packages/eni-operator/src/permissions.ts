import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'eni-operator',
  rules: [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['nodes/finalizers'], verbs: ['update'], why: '' },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch'], why: '' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: '' },
    { apiGroups: ['network.kube-iaas.dev'], resources: ['enipools'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: '' },
    { apiGroups: ['network.kube-iaas.dev'], resources: ['enipools/status'], verbs: ['patch'], why: '' },
  ],
  installsCrds: ['enipools.network.kube-iaas.dev'],
  leaseName: 'eni-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeTags', 'sts:GetCallerIdentity'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'CreateEniOnlyWithOurClusterTags',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'CreateEniInClusterSubnetsAndGroups',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: ['arn:${Partition}:ec2:*:${AccountId}:subnet/*', 'arn:${Partition}:ec2:*:${AccountId}:security-group/*'],
      Condition: { 'StringLike': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: '',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateNetworkInterface' } },
      why: '',
    },
    {
      Sid: 'ChangeOnlyOurEnis',
      Action: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'SecondaryAddressesOnPrimaryEnis',
      Action: ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      why: '',
    },
    {
      Sid: 'AttachToClusterInstances',
      Action: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:instance/*',
      Condition: { 'StringLike': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: '',
    },
  ],
};
