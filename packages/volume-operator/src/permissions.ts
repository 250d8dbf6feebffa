import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'volume-operator',
  rules: [
    { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: [''], resources: ['persistentvolumeclaims/status'], verbs: ['patch'], why: '' },
    { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: '' },
    { apiGroups: ['storage.k8s.io'], resources: ['volumeattachments'], verbs: ['get', 'list', 'watch', 'patch'], why: '' },
    { apiGroups: ['storage.k8s.io'], resources: ['volumeattachments/status'], verbs: ['patch'], why: '' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: '' },
    { apiGroups: ['storage.k8s.io'], resources: ['csidrivers'], verbs: ['get', 'create'], why: '' },
    { apiGroups: ['storage.kube-iaas.dev'], resources: ['awsvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: '' },
    { apiGroups: ['storage.kube-iaas.dev'], resources: ['awsvolumes/status'], verbs: ['get', 'patch', 'update'], why: '' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: '' },
  ],
  installsCrds: ['awsvolumes.storage.kube-iaas.dev'],
  leaseName: 'volume-operator',
  iam: [
    {
      Sid: 'Describe',
      Action: ['ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSubnets', 'ec2:DescribeTags'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'CreateOnlyTaggedForThisCluster',
      Action: ['ec2:CreateVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned', 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kube-iaas.dev/owner-kind': 'AwsVolume' } },
      why: '',
    },
    {
      Sid: 'TagOnCreateOnly',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateVolume' } },
      why: '',
    },
    {
      Sid: 'ChangeOnlyOurVolumes',
      Action: ['ec2:ModifyVolume', 'ec2:DeleteVolume', 'ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: '',
    },
    {
      Sid: 'AttachToClusterInstances',
      Action: ['ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:instance/*',
      Condition: { 'Null': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'false' } },
      why: '',
    },
    {
      Sid: 'HandOverRetainedVolumes',
      Action: ['ec2:DeleteTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}' }, 'ForAllValues:StringEquals': { 'aws:TagKeys':['kube-iaas.dev/cluster', 'kube-iaas.dev/owner-kind', 'kube-iaas.dev/owner', 'kube-iaas.dev/owner-uid']}},
      why: '',
    },
    {
      Sid: 'CheckKmsKeysBeforeCreate',
      Action: ['kms:DescribeKey'],
      Resource: '*',
      why: '',
    },
    {
      Sid: 'GrantsOnlyForEbs',
      Action: ['kms:CreateGrant'],
      Resource: '*',
      Condition: { 'Bool': { 'kms:GrantIsForAWSResource': 'true' }, 'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com*' } },
      why: '',
    },
    {
      Sid: 'DataKeysOnlyThroughEbs',
      Action: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: { 'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com*' } },
      why: '',
    },
  ],
};
