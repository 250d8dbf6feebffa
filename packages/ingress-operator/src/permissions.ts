import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'ingress-operator',
  rules: [
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch', 'patch'], why: 'watch Ingresses of class alb; patch adds and removes the finalizer' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch'], why: 'write status.loadBalancer (the ALB DNS name) back to each member Ingress' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/finalizers'], verbs: ['update'], why: 'create an ApplicationLoadBalancer whose ownerReferences to its member Ingresses have blockOwnerDeletion' },
    { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list', 'watch', 'create'], why: 'watch IngressClasses (selection); create the class alb at start (--install-ingress-class)' },
    { apiGroups: [''], resources: ['services', 'nodes'], verbs: ['get', 'list', 'watch'], why: 'backends\' NodePorts; targets follow the Nodes' },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], why: 'the ConfigMap an IngressClass\'s spec.parameters names (cluster-wide defaults)' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: 'Events on Ingresses and ApplicationLoadBalancers; patch aggregates repeats' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['applicationloadbalancers'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: 'stage 1 creates/patches one per Ingress group and deletes it when the last member leaves; finalizer patches' },
    { apiGroups: ['elb.kube-iaas.dev'], resources: ['applicationloadbalancers/status'], verbs: ['patch'], why: 'stage 2 writes conditions, DNS name and observedGeneration' },
  ],
  installsCrds: ['applicationloadbalancers.elb.kube-iaas.dev'],
  leaseName: 'ingress-operator',
  iam: [
    {
      Sid: 'Read',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeVpcs', 'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags'],
      Resource: '*',
      why: 'read the actual state: ALBs, listeners, rules, target groups, health, tags, subnets, security groups, the VPC CIDR, instances',
    },
    {
      Sid: 'CreateOnlyWithOurClusterTags',
      Action: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup', 'ec2:CreateSecurityGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'create ALBs, target groups and the ALB security group only with our cluster and owner tags in the request',
    },
    {
      Sid: 'CreateSecurityGroupInTheVpc',
      Action: ['ec2:CreateSecurityGroup'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:vpc/*',
      why: 'the VPC the ALB security group is created in',
    },
    {
      Sid: 'TagOnCreate',
      Action: ['elasticloadbalancing:AddTags'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'elasticloadbalancing:CreateAction':['CreateLoadBalancer', 'CreateTargetGroup']}},
      why: 'tags may be added only as part of those creates',
    },
    {
      Sid: 'TagSecurityGroupOnCreate',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      why: 'tags may be added to a security group only as part of its create',
    },
    {
      Sid: 'ChangeOnlyWhatWeOwn',
      Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyLoadBalancerAttributes', 'elasticloadbalancing:SetSubnets', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:targetgroup/*/*'],
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'change or delete only ALBs and target groups tagged for this cluster (owned)',
    },
    {
      Sid: 'ListenersAndRulesOfApplicationLoadBalancers',
      Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:AddListenerCertificates', 'elasticloadbalancing:RemoveListenerCertificates', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule'],
      Resource: ['arn:${Partition}:elasticloadbalancing:*:${AccountId}:loadbalancer/app/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener/app/*/*/*', 'arn:${Partition}:elasticloadbalancing:*:${AccountId}:listener-rule/app/*/*/*/*'],
      why: 'listeners and rules carry no tags; limited to those of application load balancers',
    },
    {
      Sid: 'OurSecurityGroupsOnly',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup', 'ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'rules, tags and deletion only on our own ALB security groups (owned)',
    },
    {
      Sid: 'BackendRulesOnClusterTaggedNodeSecurityGroups',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:security-group/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: 'backend rules on node security groups tagged for this cluster (owned or shared): never the untagged baseline',
    },
  ],
};
