import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'eni-operator',
  rules: [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: 'one EniPool per Node, from its providerID and instance-type label' },
    { apiGroups: [''], resources: ['nodes/finalizers'], verbs: ['update'], why: 'create an EniPool whose ownerReference to the Node has blockOwnerDeletion' },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch'], why: 'watch pods to assign addresses; patch writes the address annotations; get confirms a pod is gone before its address is released' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: 'Events on Nodes, Pods and EniPools; patch aggregates repeats' },
    { apiGroups: ['network.kube-iaas.dev'], resources: ['enipools'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: 'create from Nodes, delete when a Node of the same name replaced the old one, patch (instance type, finalizer)' },
    { apiGroups: ['network.kube-iaas.dev'], resources: ['enipools/status'], verbs: ['patch'], why: 'the allocation record and conditions in status' },
  ],
  installsCrds: ['enipools.network.kube-iaas.dev'],
  leaseName: 'eni-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeTags', 'sts:GetCallerIdentity'],
      Resource: '*',
      why: 'read the actual state: instances and their types (ENI and address limits), ENIs, subnets, security groups, tags; the account ID',
    },
    {
      Sid: 'CreateEniOnlyWithOurClusterTags',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'create ENIs only with our cluster and owner tags in the request',
    },
    {
      Sid: 'CreateEniInClusterSubnetsAndGroups',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: ['arn:${Partition}:ec2:*:${AccountId}:subnet/*', 'arn:${Partition}:ec2:*:${AccountId}:security-group/*'],
      Condition: { 'StringLike': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: 'ENIs only in cluster-tagged subnets and with cluster-tagged security groups',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateNetworkInterface' } },
      why: 'tags may be added only as part of CreateNetworkInterface',
      unscopedBecause: 'tags are added only as part of CreateNetworkInterface (ec2:CreateAction), which requires our tags in the request',
    },
    {
      Sid: 'ChangeOnlyOurEnis',
      Action: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'attach, detach, delete, modify, assign and unassign only ENIs tagged owned for this cluster',
    },
    {
      Sid: 'SecondaryAddressesOnPrimaryEnis',
      Action: ['ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:network-interface/*',
      why: 'the primary ENI of a node carries no tags of ours; core\'s guard limits this to primaries of cluster instances',
      unscopedBecause: 'a node\'s primary ENI carries no tags of ours; core\'s ownership guard limits this to primary ENIs of cluster instances',
    },
    {
      Sid: 'AttachToClusterInstances',
      Action: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:instance/*',
      Condition: { 'StringLike': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: 'attach and detach only to instances carrying the cluster tag',
    },
  ],
};
