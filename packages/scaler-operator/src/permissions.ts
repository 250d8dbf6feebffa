import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'scaler-operator',
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'], why: 'pending pods drive scale-up; pods on a node decide whether it can go' },
    { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'], why: 'scale-down drains a node through the Eviction API (PodDisruptionBudgets respected)' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'], why: 'node shapes and readiness; patch taints and annotates a node being removed' },
    { apiGroups: [''], resources: ['persistentvolumes', 'persistentvolumeclaims'], verbs: ['list', 'watch'], why: 'volume topology of pending pods (zone of their PVs/claims)' },
    { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list', 'watch'], why: 'DaemonSet pods a new node will also run' },
    { apiGroups: ['apps'], resources: ['replicasets', 'statefulsets'], verbs: ['list', 'watch'], why: 'replicas a ReplicaSet or StatefulSet declares but has not created yet are planned with the pods already pending' },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'], why: "a Job's parallelism declares pods not created yet; they are planned with the pending ones" },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'], why: 'Events on pods, nodes and NodeGroups; patch aggregates repeats' },
    { apiGroups: ['autoscaling.kube-iaas.dev'], resources: ['nodegroups'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'], why: 'discovered groups become NodeGroups; patch keeps the limits record and the finalizer; delete when a group goes' },
    { apiGroups: ['autoscaling.kube-iaas.dev'], resources: ['nodegroups/status'], verbs: ['get', 'patch', 'update'], why: 'conditions, sizes and activities in status' },
  ],
  installsCrds: ['nodegroups.autoscaling.kube-iaas.dev'],
  leaseName: 'scaler-operator',
  iam: [
    {
      Sid: 'ReadGroupsTemplatesAndTypes',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeInstanceTypes'],
      Resource: '*',
      why: 'discover groups and their templates, instances and instance types, and the scaling activities',
    },
    {
      Sid: 'ScaleDiscoveredGroups',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: '*',
      Condition: { 'Null': { 'aws:ResourceTag/k8s.io/cluster-autoscaler/${ClusterName}': 'false' } },
      why: 'set the size of, and terminate instances in, groups tagged for this cluster by the autoscaler discovery tag',
    },
    {
      Sid: 'ScaleClusterTaggedGroups',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: '*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}':['owned', 'shared']}},
      why: 'the same for groups carrying the cluster tag (owned or shared)',
    },
    {
      Sid: 'WriteLimitsForManageAsgLimitsOnly',
      Action: ['autoscaling:UpdateAutoScalingGroup'],
      Resource: '*',
      Condition: { 'Null': { 'aws:ResourceTag/k8s.io/cluster-autoscaler/${ClusterName}': 'false' } },
      why: 'spec.manageAsgLimits only: min/max of discovered groups (core\'s guard limits it to the size fields)',
    },
  ],
};
