import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'lb-operator',
  rules: [
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'patch'], why: '' },
    { apiGroups: [''], resources: ['services/status'], verbs: ['patch'], why: '' },
    { apiGroups: [''], resources: ['services/finalizers'], verbs: ['update'], why: '' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: '' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['networkloadbalancers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: '' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['networkloadbalancers/status'], verbs: ['patch'], why: '' },
  ],
  installsCrds: ['networkloadbalancers.elb.kube-iaas.dev'],
  leaseName: 'lb-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeVpcs', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'CreateOnlyWithOurClusterTags',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['elasticloadbalancing:AddTags'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'elasticloadbalancing:CreateAction':['CreateLoadBalancer', 'CreateTargetGroup']}},
      why: '',
    },
    {
      Sid: 'ChangeOnlyWhatWeOwn',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetSubnets', 'elasticloadbalancing:SetIpAddressType', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'ListenersOfNetworkLoadBalancers',
      Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:AddListenerCertificates'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener/net/*/*/*'],
      why: '',
    },
    {
      Sid: 'RulesOnClusterTaggedSecurityGroupsOnly',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: '',
    },
    {
      Sid: 'SecurityGroupsOnlyWithOurClusterTags',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'SecurityGroupsInTheVpc',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:vpc/*',
      why: '',
    },
    {
      Sid: 'TagSecurityGroupsOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      why: '',
    },
    {
      Sid: 'DeleteOnlyOurSecurityGroups',
      Action: ['ec2:DeleteSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
  ],
};
