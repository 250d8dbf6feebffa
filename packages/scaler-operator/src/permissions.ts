import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'scaler-operator',
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'], why: '' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'], why: '' },
    { apiGroups: [''], resources: ['persistentvolumes', 'persistentvolumeclaims'], verbs: ['list', 'watch'], why: '' },
    { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list', 'watch'], why: '' },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'], why: '' },
    { apiGroups: ['autoscaling.kube-iaas.dev'], resources: ['nodegroups'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'], why: '' },
    { apiGroups: ['autoscaling.kube-iaas.dev'], resources: ['nodegroups/status'], verbs: ['get', 'patch', 'update'], why: '' },
  ],
  installsCrds: ['nodegroups.autoscaling.kube-iaas.dev'],
  leaseName: 'scaler-operator',
  iam: [
    {
      Sid: 'ReadGroupsTemplatesAndTypes',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeInstanceTypes'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'ScaleDiscoveredGroups',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: '*',
      Condition: { 'Null': { 'aws:ResourceTag/k8s.io/cluster-autoscaler/${ClusterName}': 'false' } },
      why: '',
    },
    {
      Sid: 'ScaleClusterTaggedGroups',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: '',
    },
    {
      Sid: 'WriteLimitsForManageAsgLimitsOnly',
      Action: ['autoscaling:UpdateAutoScalingGroup'],
      Resource: '*',
      Condition: { 'Null': { 'aws:ResourceTag/k8s.io/cluster-autoscaler/${ClusterName}': 'false' } },
      why: '',
    },
  ],
};
