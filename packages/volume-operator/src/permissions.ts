import type { OperatorPermissions } from '@kube-iaas/core';

/** What this operator may do, once: its RBAC and IAM policy are generated from it (`npm run generate`). */
export const permissions: OperatorPermissions = {
  name: 'volume-operator',
  rules: [
    { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'], why: 'StorageClasses name the provisioner, parameters and reclaim policy' },
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch'], why: 'watch claims to provision for (translate stage)' },
    { apiGroups: [''], resources: ['persistentvolumeclaims/status'], verbs: ['patch'], why: 'online expansion: FileSystemResizePending and capacity on the claim' },
    { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: 'create the PV for a provisioned volume, patch capacity and finalizers, delete it on reclaim' },
    { apiGroups: ['storage.k8s.io'], resources: ['volumeattachments'], verbs: ['get', 'list', 'watch', 'patch'], why: 'the CSI attacher role: VolumeAttachments of our driver are attached and detached by the operator' },
    { apiGroups: ['storage.k8s.io'], resources: ['volumeattachments/status'], verbs: ['patch'], why: 'write attached/attachmentMetadata/errors of a VolumeAttachment' },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'], why: 'the zone and instance ID of a node (providerID), and its attach limit' },
    { apiGroups: ['storage.k8s.io'], resources: ['csidrivers'], verbs: ['get', 'create'], why: 'ensure the CSIDriver object ebs.kube-iaas.dev at start' },
    { apiGroups: ['storage.kube-iaas.dev'], resources: ['awsvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], why: 'stage 1 creates/patches one per claim, deletes on reclaim; finalizer patches' },
    { apiGroups: ['storage.kube-iaas.dev'], resources: ['awsvolumes/status'], verbs: ['get', 'patch', 'update'], why: 'stage 2 writes conditions, volume ID and observedGeneration' },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'], why: 'Events on claims, PVs and AwsVolumes; patch aggregates repeats' },
  ],
  installsCrds: ['awsvolumes.storage.kube-iaas.dev'],
  leaseName: 'volume-operator',
  iam: [
    {
      Sid: 'Describe',
      Action: ['ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSubnets', 'ec2:DescribeTags'],
      Resource: '*',
      why: 'read the actual state: volumes and their modifications, instances and their types (attach slots), subnets (zones), tags',
    },
    {
      Sid: 'CreateOnlyTaggedForThisCluster',
      Action: ['ec2:CreateVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:RequestTag/kubernetes.io/cluster/${ClusterName}': 'owned', 'aws:RequestTag/kube-iaas.dev/cluster': '${ClusterName}', 'aws:RequestTag/kube-iaas.dev/owner-kind': 'AwsVolume' } },
      why: 'create volumes only with our cluster and owner tags in the request',
    },
    {
      Sid: 'TagOnCreateOnly',
      Action: ['ec2:CreateTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'ec2:CreateAction': 'CreateVolume' } },
      why: 'tags may be added only as part of CreateVolume',
    },
    {
      Sid: 'ChangeOnlyOurVolumes',
      Action: ['ec2:ModifyVolume', 'ec2:DeleteVolume', 'ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } },
      why: 'modify, delete, attach and detach only volumes tagged owned for this cluster',
    },
    {
      Sid: 'AttachToClusterInstances',
      Action: ['ec2:AttachVolume', 'ec2:DetachVolume'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:instance/*',
      Condition: { 'Null': { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'false' } },
      why: 'attach and detach only to instances carrying the cluster tag',
    },
    {
      Sid: 'HandOverRetainedVolumes',
      Action: ['ec2:DeleteTags'],
      Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*',
      Condition: { 'StringEquals': { 'aws:ResourceTag/kube-iaas.dev/cluster': '${ClusterName}' }, 'ForAllValues:StringEquals': { 'aws:TagKeys':['kube-iaas.dev/cluster', 'kube-iaas.dev/owner-kind', 'kube-iaas.dev/owner', 'kube-iaas.dev/owner-uid']}},
      why: 'Retain hand-over: remove our four owner tags, nothing else, from our volumes',
    },
    {
      Sid: 'CheckKmsKeysBeforeCreate',
      Action: ['kms:DescribeKey'],
      Resource: '*',
      why: 'check a StorageClass\'s kmsKeyId before CreateVolume (the KMS client is read-only)',
    },
    {
      Sid: 'GrantsOnlyForEbs',
      Action: ['kms:CreateGrant'],
      Resource: '*',
      Condition: { 'Bool': { 'kms:GrantIsForAWSResource': 'true' }, 'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com*' } },
      why: 'what EBS does on the caller\'s behalf when it encrypts with a customer key: a grant for EC2 only',
    },
    {
      Sid: 'DataKeysOnlyThroughEbs',
      Action: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:Decrypt', 'kms:ReEncrypt*'],
      Resource: '*',
      Condition: { 'StringLike': { 'kms:ViaService': 'ec2.*.amazonaws.com*' } },
      why: 'data keys for a customer-key volume, only through EC2',
    },
  ],
};
