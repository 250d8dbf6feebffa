import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'lb-operator',
  rules: [
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'patch'], why: 'watch Services of type LoadBalancer; patch adds and removes the finalizer' },
    { apiGroups: [''], resources: ['services/status'], verbs: ['patch'], why: 'write status.loadBalancer (the NLB DNS name) back to the Service' },
    { apiGroups: [''], resources: ['services/finalizers'], verbs: ['update'], why: 'create a NetworkLoadBalancer whose ownerReference to its Service has blockOwnerDeletion' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: 'targets follow the Nodes (instance IDs from providerID, labels)' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: 'Events on Services and NetworkLoadBalancers; patch aggregates repeats' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['networkloadbalancers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: 'stage 1 creates/patches one per selected Service and deletes it when the Service stops being selected; finalizer patches' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['networkloadbalancers/status'], verbs: ['patch'], why: 'stage 2 writes conditions, DNS name and observedGeneration' },
  ],
  installsCrds: ['networkloadbalancers.elb.kube-iaas.dev'],
  leaseName: 'lb-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeVpcs', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags'],
      Resource: '*',
      why: 'read the actual state: NLBs, listeners, target groups, health, tags, subnets, security groups, the VPC CIDR, instances',
    },
    {
      Sid: 'CreateOnlyWithOurClusterTags',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'create NLBs and target groups only with our cluster and owner tags in the request',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['elasticloadbalancing:AddTags'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'elasticloadbalancing:CreateAction':['CreateLoadBalancer', 'CreateTargetGroup']}},
      why: 'tags may be added only as part of those creates',
    },
    {
      Sid: 'ChangeOnlyWhatWeOwn',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetSubnets', 'elasticloadbalancing:SetIpAddressType', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'change or delete only NLBs and target groups tagged for this cluster (owned)',
    },
    {
      Sid: 'ListenersOfNetworkLoadBalancers',
      Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:AddListenerCertificates'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/net/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener/net/*/*/*'],
      why: 'listeners carry no tags; limited to listeners of network load balancers',
    },
    {
      Sid: 'RulesOnClusterTaggedSecurityGroupsOnly',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: 'open and close NodePort rules only on security groups tagged for this cluster (owned or shared): never the untagged baseline',
    },
    {
      Sid: 'SecurityGroupsOnlyWithOurClusterTags',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'frontend security groups are created only with our cluster tags in the request',
    },
    {
      Sid: 'SecurityGroupsInTheVpc',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:vpc/*',
      why: 'the VPC a frontend security group is created in',
    },
    {
      Sid: 'TagSecurityGroupsOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      why: 'tags may be added to a security group only as part of its create',
    },
    {
      Sid: 'DeleteOnlyOurSecurityGroups',
      Action: ['ec2:DeleteSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'delete only our own frontend security groups (tagged owned for this cluster)',
    },
  ],
};
