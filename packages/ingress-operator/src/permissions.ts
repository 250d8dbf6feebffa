import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'ingress-operator',
  rules: [
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch', 'patch'], why: '' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch'], why: '' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/finalizers'], verbs: ['update'], why: '' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list', 'watch', 'create'], why: '' },
    { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], why: '' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: '' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['applicationloadbalancers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: '' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['applicationloadbalancers/status'], verbs: ['patch'], why: '' },
  ],
  installsCrds: ['applicationloadbalancers.elb.kube-iaas.dev'],
  leaseName: 'ingress-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeVpcs', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'CreateOnlyWithOurClusterTags',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup', 'ec2:CreateSecurityGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'CreateSecurityGroupInTheVpc',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:vpc/*',
      why: '',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['elasticloadbalancing:AddTags'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'elasticloadbalancing:CreateAction':['CreateLoadBalancer', 'CreateTargetGroup']}},
      why: '',
    },
    {
      Sid: 'TagSecurityGroupOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      why: '',
    },
    {
      Sid: 'ChangeOnlyWhatWeOwn',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetSubnets', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'ListenersAndRulesOfApplicationLoadBalancers',
      Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:AddListenerCertificates', 'elasticloadbalancing:RemoveListenerCertificates', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener/app/*/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener-rule/app/*/*/*/*'],
      why: '',
    },
    {
      Sid: 'OurSecurityGroupsOnly',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup', 'ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'BackendRulesOnClusterTaggedNodeSecurityGroups',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: '',
    },
  ],
};
