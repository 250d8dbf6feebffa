import { describe, expect, it } from 'vitest';
import {
  autoscalerDiscoveryFilters,
  autoscalerDiscoveryTags,
  clusterTaggedFilterSets,
  eniInstanceOf,
  eniTags,
  isAutoscalerDiscoverable,
  isOwnedBy,
  matchesOwner,
  nodeTemplateTags,
  ownedByOwnerFilters,
  ownedTags,
  parseNodeTemplate,
  serviceOf,
  tagsFromAws,
  taggedOwner,
  targetGroupTags,
  toAutoScalingTags,
  toElbTags,
  toTagSpecifications,
  volumeClaimOf,
  volumeTags,
  type OwnerRef,
} from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
const vol: OwnerRef = { kind: 'AwsVolume', name: 'pvc-1234', uid: 'u-1' };
const nlb: OwnerRef = { kind: 'NetworkLoadBalancer', namespace: 'default', name: 'web', uid: 'u-2' };

describe('ownedTags', () => {
  it('writes both cluster tags and the four owner tags, plus extras', () => {
    const tags = ownedTags(cluster, vol, volumeTags({ pvcName: 'data', pvcNamespace: 'default', pvName: 'pvc-1234' }));
    expect(tags).toEqual({
      'kubernetes.io/cluster/int32bit-kubernetes': 'owned',
      KubernetesCluster: cluster,
      'kube-iaas.dev/cluster': cluster,
      'kube-iaas.dev/owner-kind': 'AwsVolume',
      'kube-iaas.dev/owner': 'pvc-1234',
      'kube-iaas.dev/owner-uid': 'u-1',
      'kubernetes.io/created-for/pvc/name': 'data',
      'kubernetes.io/created-for/pvc/namespace': 'default',
      'kubernetes.io/created-for/pv/name': 'pvc-1234',
    });
    expect(ownedTags(cluster, nlb)['kube-iaas.dev/owner']).toBe('default/web');
    expect(volumeClaimOf(tags)).toEqual({ pvcName: 'data', pvcNamespace: 'default', pvName: 'pvc-1234' });
  });

  it('refuses extras that would override ownership', () => {
    expect(() => ownedTags(cluster, vol, { 'kube-iaas.dev/owner': 'x' })).toThrow(/set by ownedTags/);
    expect(() => ownedTags(cluster, vol, { 'kubernetes.io/cluster/other': 'owned' })).toThrow(/set by ownedTags/);
    expect(() => ownedTags(cluster, vol, { 'aws:cloudformation:stack-name': 'x' })).toThrow(/reserved/);
  });

  it('reads the owner back', () => {
    expect(taggedOwner(ownedTags(cluster, nlb))).toEqual({ cluster, kind: 'NetworkLoadBalancer', namespace: 'default', name: 'web', uid: 'u-2' });
    expect(taggedOwner({})).toBeUndefined();
    expect(isOwnedBy(ownedTags(cluster, nlb), cluster, nlb)).toBe(true);
    expect(isOwnedBy(ownedTags(cluster, nlb), cluster, { ...nlb, uid: 'other' })).toBe(false);
    expect(isOwnedBy(ownedTags(cluster, nlb), 'prod', nlb)).toBe(false);
    expect(matchesOwner(cluster, nlb, { byUid: true })(ownedTags(cluster, nlb))).toBe(true);
    expect(matchesOwner(cluster, vol)(ownedTags(cluster, nlb))).toBe(false);
  });
});

describe('SDK shapes', () => {
  it('converts to TagSpecifications, ELB tags and ASG tags, sorted by key', () => {
    const tags = { b: '2', a: '1' };
    expect(toTagSpecifications('volume', tags)).toEqual([{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }]);
    expect(toElbTags(tags)).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    expect(toAutoScalingTags('nodes', tags, (k) => k === 'a')).toEqual([
      { ResourceId: 'nodes', ResourceType: 'auto-scaling-group', Key: 'a', Value: '1', PropagateAtLaunch: true },
      { ResourceId: 'nodes', ResourceType: 'auto-scaling-group', Key: 'b', Value: '2', PropagateAtLaunch: false },
    ]);
    expect(tagsFromAws([{ Key: 'a', Value: '1' }, { Key: 'b' }, { Value: 'x' }])).toEqual({ a: '1', b: '' });
  });
});

describe('filters', () => {
  it('finds what an owner created, optionally by UID', () => {
    expect(ownedByOwnerFilters(cluster, nlb)).toEqual([
      { Name: 'tag:kube-iaas.dev/cluster', Values: [cluster] },
      { Name: 'tag:kube-iaas.dev/owner-kind', Values: ['NetworkLoadBalancer'] },
      { Name: 'tag:kube-iaas.dev/owner', Values: ['default/web'] },
    ]);
    expect(ownedByOwnerFilters(cluster, nlb, { byUid: true })).toContainEqual({ Name: 'tag:kube-iaas.dev/owner-uid', Values: ['u-2'] });
  });

  it('cluster-tagged resources are two alternative filter sets (current and legacy tag)', () => {
    expect(clusterTaggedFilterSets(cluster)).toEqual([[{ Name: 'tag-key', Values: ['kubernetes.io/cluster/int32bit-kubernetes'] }], [{ Name: 'tag:KubernetesCluster', Values: [cluster] }]]);
  });

  it('cluster-autoscaler discovery', () => {
    expect(autoscalerDiscoveryFilters(cluster)).toEqual([
      { Name: 'tag-key', Values: ['k8s.io/cluster-autoscaler/enabled'] },
      { Name: 'tag-key', Values: ['k8s.io/cluster-autoscaler/int32bit-kubernetes'] },
    ]);
    expect(isAutoscalerDiscoverable(autoscalerDiscoveryTags(cluster), cluster)).toBe(true);
    expect(isAutoscalerDiscoverable(autoscalerDiscoveryTags(cluster), 'prod')).toBe(false);
  });
});

describe('per-kind extras', () => {
  it('ENI instance and creation time', () => {
    const at = new Date('2019-06-01T00:00:00Z');
    expect(eniTags({ instanceId: 'i-1', createdAt: at })).toEqual({ 'node.k8s.amazonaws.com/instance_id': 'i-1', 'node.k8s.amazonaws.com/createdAt': '2019-06-01T00:00:00.000Z' });
    expect(eniInstanceOf(eniTags({ instanceId: 'i-1', createdAt: at }))).toEqual({ instanceId: 'i-1', createdAt: at });
  });

  it('service and target group', () => {
    const tags = targetGroupTags({ namespace: 'default', name: 'kubernetes-bootcamp' }, 8080);
    expect(tags).toEqual({ 'kubernetes.io/service-name': 'default/kubernetes-bootcamp', 'kube-iaas.dev/service-port': '8080' });
    expect(serviceOf(tags)).toEqual({ namespace: 'default', name: 'kubernetes-bootcamp', port: '8080' });
  });
});

describe('node templates', () => {
  it('round-trips labels, taints, resources and options', () => {
    const template = {
      labels: { 'node.kubernetes.io/instance-type': 'c5.large', team: 'web' },
      taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' as const }],
      resources: { 'ephemeral-storage': '100Gi' },
      options: { scaledownutilizationthreshold: '0.5' },
    };
    const tags = nodeTemplateTags(template);
    expect(tags['k8s.io/cluster-autoscaler/node-template/taint/dedicated']).toBe('web:NoSchedule');
    expect(parseNodeTemplate({ ...tags, unrelated: 'x' })).toEqual(template);
  });

  it('skips malformed taints', () => {
    expect(parseNodeTemplate({ 'k8s.io/cluster-autoscaler/node-template/taint/x': 'novalue' }).taints).toEqual([]);
  });
});
