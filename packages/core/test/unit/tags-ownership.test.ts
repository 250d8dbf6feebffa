import { describe, expect, it } from 'vitest';
import {
  OwnershipError,
  assertCreateTags,
  assertMutable,
  clusterOwnership,
  ownedTags,
  ownerDescription,
  parseOwnerDescription,
  type OwnerRef,
} from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
const nlb: OwnerRef = { kind: 'NetworkLoadBalancer', namespace: 'default', name: 'web', uid: '8c1f6a52-0000-4000-8000-000000000001' };
const other: OwnerRef = { kind: 'NetworkLoadBalancer', namespace: 'default', name: 'api', uid: '8c1f6a52-0000-4000-8000-000000000002' };

const owned = { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned', KubernetesCluster: cluster };
const shared = { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared' };
const legacyOnly = { KubernetesCluster: cluster };
const otherCluster = { 'kubernetes.io/cluster/prod': 'owned', KubernetesCluster: 'prod' };
const untagged = { Name: 'baseline' };

function refusal(fn: () => unknown): OwnershipError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OwnershipError);
    return e as OwnershipError;
  }
  throw new Error('expected an OwnershipError');
}

describe('clusterOwnership', () => {
  it('reads owned, shared, legacy-only, other-cluster and untagged', () => {
    expect(clusterOwnership(owned, cluster)).toEqual({ state: 'owned' });
    expect(clusterOwnership({ 'kubernetes.io/cluster/int32bit-kubernetes': 'owned' }, cluster)).toEqual({ state: 'owned' });
    expect(clusterOwnership(shared, cluster)).toEqual({ state: 'shared' });
    // The legacy tag cannot say "owned": the weaker reading wins.
    expect(clusterOwnership(legacyOnly, cluster)).toEqual({ state: 'shared' });
    expect(clusterOwnership(otherCluster, cluster)).toEqual({ state: 'other-cluster', clusters: ['prod'] });
    expect(clusterOwnership(untagged, cluster)).toEqual({ state: 'untagged' });
  });

  it('treats owned-for-us but legacy-for-another as shared, and unknown values as shared', () => {
    expect(clusterOwnership({ 'kubernetes.io/cluster/int32bit-kubernetes': 'owned', KubernetesCluster: 'prod' }, cluster).state).toBe('shared');
    expect(clusterOwnership({ 'kubernetes.io/cluster/int32bit-kubernetes': '1' }, cluster).state).toBe('shared');
  });

  it('a resource shared by two clusters is shared for both', () => {
    const both = { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared', 'kubernetes.io/cluster/prod': 'shared' };
    expect(clusterOwnership(both, cluster).state).toBe('shared');
    expect(clusterOwnership(both, 'prod').state).toBe('shared');
    expect(clusterOwnership(both, 'dev')).toEqual({ state: 'other-cluster', clusters: ['int32bit-kubernetes', 'prod'] });
  });
});

describe('assertMutable', () => {
  const sg = (tags: Record<string, string>) => ({ id: 'sg-0123', type: 'security group', tags });

  it('allows any change to owned resources', () => {
    for (const change of ['any', 'additive', 'retract', 'scale'] as const) {
      expect(assertMutable(sg(owned), { cluster, change })).toMatchObject({ resourceId: 'sg-0123', ownership: 'owned', change });
    }
  });

  it('refuses untagged resources for every kind of change, naming resource and missing tag', () => {
    for (const change of ['any', 'additive', 'retract', 'scale'] as const) {
      const e = refusal(() => assertMutable(sg(untagged), { cluster, change, owner: nlb }));
      expect(e.reason).toBe('untagged');
      expect(e.resourceId).toBe('sg-0123');
      expect(e.missingTag).toBe('kubernetes.io/cluster/int32bit-kubernetes');
      expect(e.message).toContain('security group sg-0123');
      expect(e.message).toContain('kubernetes.io/cluster/int32bit-kubernetes');
      expect(e.code).toBe('OwnershipRefused');
      expect(e.kind).toBe('terminal');
    }
  });

  it('refuses resources of another cluster, naming that cluster', () => {
    const e = refusal(() => assertMutable(sg(otherCluster), { cluster, change: 'additive', owner: nlb }));
    expect(e.reason).toBe('other-cluster');
    expect(e.message).toContain('tagged for cluster prod');
  });

  it('shared: additive yes (with the owner description), any no', () => {
    const permit = assertMutable(sg(shared), { cluster, change: 'additive', owner: nlb });
    expect(permit.ownership).toBe('shared');
    expect(permit.description).toBe(`kube-iaas.dev cluster=${cluster} owner=NetworkLoadBalancer/default/web uid=${nlb.uid}`);
    const e = refusal(() => assertMutable(sg(shared), { cluster, change: 'any', owner: nlb }));
    expect(e.reason).toBe('shared');
    expect(e.missingTag).toBe('kubernetes.io/cluster/int32bit-kubernetes=owned');
    // legacy-only counts as shared
    expect(assertMutable(sg(legacyOnly), { cluster, change: 'additive' }).ownership).toBe('shared');
    expect(refusal(() => assertMutable(sg(legacyOnly), { cluster, change: 'any' })).reason).toBe('shared');
  });

  it('shared: retract only what a kube-iaas owner of this cluster described', () => {
    const ours = ownerDescription(cluster, nlb);
    expect(assertMutable(sg(shared), { cluster, change: 'retract', describedBy: [ours] }).ownership).toBe('shared');
    expect(assertMutable(sg(shared), { cluster, change: 'retract', owner: nlb, describedBy: [ours] }).ownership).toBe('shared');
    expect(refusal(() => assertMutable(sg(shared), { cluster, change: 'retract', owner: other, describedBy: [ours] })).reason).toBe('foreign-description');
    expect(refusal(() => assertMutable(sg(shared), { cluster, change: 'retract', describedBy: ['ssh from bastion'] })).reason).toBe('foreign-description');
    expect(refusal(() => assertMutable(sg(shared), { cluster, change: 'retract', describedBy: [undefined] })).reason).toBe('foreign-description');
    expect(refusal(() => assertMutable(sg(shared), { cluster, change: 'retract', describedBy: [ownerDescription('prod', nlb)] })).reason).toBe('foreign-description');
    // without the descriptions there is nothing to prove it is ours
    expect(refusal(() => assertMutable(sg(shared), { cluster, change: 'retract' })).reason).toBe('foreign-description');
  });

  it('mustBeOurs: owner tags must match (kind, namespace/name, UID)', () => {
    const ours = { id: 'vol-1', type: 'volume', tags: ownedTags(cluster, nlb) };
    expect(assertMutable(ours, { cluster, change: 'any', owner: nlb, mustBeOurs: true }).ownership).toBe('owned');
    const e = refusal(() => assertMutable(ours, { cluster, change: 'any', owner: other, mustBeOurs: true }));
    expect(e.reason).toBe('not-ours');
    expect(e.missingTag).toBe('kube-iaas.dev/owner=default/api');
    const recreated = { ...nlb, uid: 'new-uid' };
    expect(refusal(() => assertMutable(ours, { cluster, change: 'any', owner: recreated, mustBeOurs: true })).missingTag).toBe('kube-iaas.dev/owner-uid=new-uid');
    // cluster-owned but not created by kube-iaas (the testbed's node group)
    const clusterGroup = { id: 'sg-1', type: 'security group', tags: owned };
    expect(refusal(() => assertMutable(clusterGroup, { cluster, change: 'any', mustBeOurs: true })).missingTag).toBe(`kube-iaas.dev/cluster=${cluster}`);
  });

  it('scale: allowed on groups with autoscaler discovery tags for this cluster only', () => {
    const asg = (tags: Record<string, string>) => ({ id: 'nodes', type: 'auto scaling group', tags });
    const discovery = { 'k8s.io/cluster-autoscaler/enabled': 'true', [`k8s.io/cluster-autoscaler/${cluster}`]: 'owned' };
    expect(assertMutable(asg(discovery), { cluster, change: 'scale' }).ownership).toBe('autoscaler-discovered');
    expect(refusal(() => assertMutable(asg(discovery), { cluster, change: 'any' })).reason).toBe('untagged');
    expect(refusal(() => assertMutable(asg({ 'k8s.io/cluster-autoscaler/enabled': 'true', 'k8s.io/cluster-autoscaler/prod': 'owned' }), { cluster, change: 'scale' })).reason).toBe('untagged');
    expect(assertMutable(asg({ ...shared, ...discovery }), { cluster, change: 'scale' }).ownership).toBe('shared');
    expect(refusal(() => assertMutable(asg(shared), { cluster, change: 'scale' })).reason).toBe('shared');
    expect(assertMutable(asg(owned), { cluster, change: 'scale' }).ownership).toBe('owned');
  });
});

describe('owner descriptions', () => {
  it('round-trip for namespaced and cluster-scoped owners', () => {
    expect(parseOwnerDescription(ownerDescription(cluster, nlb))).toEqual({ cluster, kind: 'NetworkLoadBalancer', namespace: 'default', name: 'web', uid: nlb.uid });
    const pool: OwnerRef = { kind: 'EniPool', name: 'ip-192-168-193-194.cn-northwest-1.compute.internal', uid: 'u1' };
    expect(parseOwnerDescription(ownerDescription(cluster, pool))).toEqual({ cluster, kind: 'EniPool', name: pool.name, uid: 'u1' });
    expect(parseOwnerDescription('node to node')).toBeUndefined();
    expect(parseOwnerDescription(undefined)).toBeUndefined();
  });

  it('stays within the 255 characters EC2 allows, identifying a long-named owner by UID', () => {
    const long: OwnerRef = { kind: 'ApplicationLoadBalancer', namespace: 'n'.repeat(63), name: 'a'.repeat(200), uid: '8c1f6a52-0000-4000-8000-000000000009' };
    const d = ownerDescription(cluster, long);
    expect(d).toBe(`kube-iaas.dev cluster=${cluster} owner=ApplicationLoadBalancer uid=${long.uid}`);
    expect(parseOwnerDescription(d)).toEqual({ cluster, kind: 'ApplicationLoadBalancer', name: '', uid: long.uid });
    // still proves ownership for retract on a shared group
    const sg = { id: 'sg-1', type: 'security group', tags: { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared' } };
    expect(assertMutable(sg, { cluster, change: 'retract', owner: long, describedBy: [d] }).ownership).toBe('shared');
    expect(refusal(() => assertMutable(sg, { cluster, change: 'retract', owner: { ...long, uid: 'x' }, describedBy: [d] })).reason).toBe('foreign-description');
    for (const desc of [d, ownerDescription(cluster, nlb)]) expect(/^[\w .:/()#,@[\]+=&;{}!$*-]*$/.test(desc)).toBe(true);
  });
});

describe('assertCreateTags', () => {
  it('requires ownedTags() on anything created', () => {
    expect(() => assertCreateTags('volume', ownedTags(cluster, nlb), { cluster })).not.toThrow();
    expect(() => assertCreateTags('volume', ownedTags(cluster, nlb), { cluster, owner: nlb })).not.toThrow();
    const e = refusal(() => assertCreateTags('volume', { Name: 'x' }, { cluster }));
    expect(e.reason).toBe('untagged-create');
    expect(e.missingTag).toBe('kubernetes.io/cluster/int32bit-kubernetes=owned');
    expect(refusal(() => assertCreateTags('volume', undefined, { cluster })).reason).toBe('untagged-create');
    expect(refusal(() => assertCreateTags('volume', ownedTags('prod', nlb), { cluster })).reason).toBe('untagged-create');
    expect(refusal(() => assertCreateTags('volume', ownedTags(cluster, other), { cluster, owner: nlb })).missingTag).toBe('kube-iaas.dev/owner=default/web');
  });
});
