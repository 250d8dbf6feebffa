import { describe, expect, it } from 'vitest';
import { AwsError, deniedAction, emulatorIamPolicy, renderIamPolicy, renderRbac, resources, rulesAllow, toYaml, uncoveredWatches, type OperatorPermissions } from '../../src/index.ts';

const perms: OperatorPermissions = {
  name: 'demo-operator',
  rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'], why: 'demo' }],
  installsCrds: ['demos.example.dev'],
  leaseName: 'demo-operator',
  iam: [
    { Sid: 'Read', Action: ['ec2:DescribeSubnets'], Resource: '*', why: 'read' },
    { Sid: 'Own', Action: ['ec2:DeleteVolume'], Resource: 'arn:${Partition}:ec2:*:${AccountId}:volume/*', Condition: { StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } }, why: 'own' },
  ],
};

describe('permissions', () => {
  it('renders ServiceAccount, ClusterRole, CRD-install role and lease Role with bindings', () => {
    const kinds = renderRbac(perms).map((m) => `${m.kind}/${m.metadata.name}`);
    expect(kinds).toEqual([
      'ServiceAccount/kube-iaas-demo-operator',
      'ClusterRole/kube-iaas-demo-operator',
      'ClusterRoleBinding/kube-iaas-demo-operator',
      'ClusterRole/kube-iaas-demo-operator-crd-install',
      'ClusterRoleBinding/kube-iaas-demo-operator-crd-install',
      'Role/kube-iaas-demo-operator-leader-election',
      'RoleBinding/kube-iaas-demo-operator-leader-election',
    ]);
    expect(toYaml([{ a: [''], b: { c: 'x y' } }])).toBe('a:\n  - ""\nb:\n  c: "x y"\n');
  });

  it('fills partition, account and cluster into the policy; the emulator copy keeps exactly the actions', () => {
    const doc = JSON.stringify(renderIamPolicy(perms, { partition: 'aws-cn', accountId: '111122223333', clusterName: 'c1' }));
    expect(doc).toContain('arn:aws-cn:ec2:*:111122223333:volume/*');
    expect(doc).toContain('aws:ResourceTag/kubernetes.io/cluster/c1');
    expect(JSON.stringify(renderIamPolicy(perms))).toContain('${ClusterName}');
    expect(emulatorIamPolicy(perms).Statement[0]?.Action).toEqual(['ec2:DeleteVolume', 'ec2:DescribeSubnets']);
  });

  it('finds a watch its rules do not cover', () => {
    expect(rulesAllow(perms.rules, '', 'services', 'watch')).toBe(true);
    expect(uncoveredWatches(perms, [resources.Service, resources.Pod])).toEqual(['list,watch pods']);
  });

  it('a denied AWS call names the IAM action it lacked', () => {
    const err = AwsError.from(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation', Code: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }), { service: 'ec2', operation: 'CreateVolume' });
    expect(err.kind).toBe('terminal');
    expect(err.message).toContain('missing IAM permission ec2:CreateVolume');
    expect(deniedAction(err)).toBe('ec2:CreateVolume');
    expect(deniedAction(AwsError.from(Object.assign(new Error('x'), { name: 'AccessDenied' }), { service: 'elbv2', operation: 'CreateLoadBalancer' }))).toBe('elasticloadbalancing:CreateLoadBalancer');
  });
});
