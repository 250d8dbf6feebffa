import { describe, expect, it } from 'vitest';
import { SubnetSelectionError, selectClusterSecurityGroups, selectLoadBalancerSubnets, type SubnetCandidate } from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
const mine = { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared' };
const legacy = { KubernetesCluster: cluster };
const theirs = { 'kubernetes.io/cluster/prod': 'owned' };
const pub = { 'kubernetes.io/role/elb': '1' };
const priv = { 'kubernetes.io/role/internal-elb': '1' };

const s = (id: string, az: string, ...tags: Record<string, string>[]): SubnetCandidate => ({ id, availabilityZone: az, tags: Object.assign({}, ...tags) });

describe('selectLoadBalancerSubnets', () => {
  it('picks one subnet per AZ by the role tag of the scheme', () => {
    const subnets = [s('subnet-pa', 'cn-northwest-1a', pub, mine), s('subnet-pb', 'cn-northwest-1b', pub, mine), s('subnet-qa', 'cn-northwest-1a', priv, mine), s('subnet-qb', 'cn-northwest-1b', priv, mine)];
    expect(selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' }).map((x) => x.id)).toEqual(['subnet-pa', 'subnet-pb']);
    expect(selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internal' }).map((x) => x.id)).toEqual(['subnet-qa', 'subnet-qb']);
  });

  it('prefers subnets tagged for this cluster (current or legacy tag) over untagged ones', () => {
    const subnets = [s('subnet-0001', 'a', pub), s('subnet-9999', 'a', pub, mine), s('subnet-0002', 'b', pub), s('subnet-8888', 'b', pub, legacy)];
    expect(selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' }).map((x) => x.id)).toEqual(['subnet-9999', 'subnet-8888']);
  });

  it('drops subnets tagged for another cluster', () => {
    const subnets = [s('subnet-1', 'a', pub, theirs), s('subnet-2', 'a', pub), s('subnet-3', 'b', pub, theirs), s('subnet-4', 'b', pub), s('subnet-5', 'c', pub, theirs)];
    expect(selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' }).map((x) => x.id)).toEqual(['subnet-2', 'subnet-4']);
  });

  it('breaks ties by lexical subnet ID, whatever the input order', () => {
    const subnets = [s('subnet-c', 'a', pub, mine), s('subnet-a', 'a', pub, mine), s('subnet-b', 'a', pub, mine), s('subnet-z', 'b', pub), s('subnet-y', 'b', pub)];
    const a = selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' }).map((x) => x.id);
    const b = selectLoadBalancerSubnets([...subnets].reverse(), { cluster, scheme: 'internet-facing' }).map((x) => x.id);
    expect(a).toEqual(['subnet-a', 'subnet-y']);
    expect(b).toEqual(a);
  });

  it('accepts an empty role tag value and ignores other values', () => {
    const subnets = [s('subnet-1', 'a', { 'kubernetes.io/role/elb': '' }), s('subnet-2', 'b', { 'kubernetes.io/role/elb': '0' }), s('subnet-3', 'c', pub)];
    expect(selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' }).map((x) => x.id)).toEqual(['subnet-1', 'subnet-3']);
  });

  it('fails with fewer than two AZs, naming the missing tags and what was dropped', () => {
    const subnets = [s('subnet-1', 'cn-northwest-1a', pub, mine), s('subnet-2', 'cn-northwest-1b', pub, theirs), s('subnet-3', 'cn-northwest-1b', priv, mine)];
    let err: unknown;
    try {
      selectLoadBalancerSubnets(subnets, { cluster, scheme: 'internet-facing' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SubnetSelectionError);
    const e = err as SubnetSelectionError;
    expect(e.message).toContain('at least 2 availability zones, found 1');
    expect(e.message).toContain('kubernetes.io/role/elb=1');
    expect(e.message).toContain('subnet-2 (tagged for prod)');
    expect(e.missingTags).toContain('kubernetes.io/role/elb=1');
    expect(e.zonesFound).toEqual(['cn-northwest-1a']);
    expect(() => selectLoadBalancerSubnets([], { cluster, scheme: 'internal' })).toThrow(/found 0 \(none\).*kubernetes\.io\/role\/internal-elb=1/);
  });

  it('honours minZones', () => {
    expect(selectLoadBalancerSubnets([s('subnet-1', 'a', pub)], { cluster, scheme: 'internet-facing', minZones: 1 })).toHaveLength(1);
  });
});

describe('selectClusterSecurityGroups', () => {
  it('splits owned and shared, never returns untagged or foreign groups', () => {
    const groups: Array<{ id: string; tags: Record<string, string> }> = [
      { id: 'sg-3', tags: { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned', KubernetesCluster: cluster } },
      { id: 'sg-1', tags: { Name: 'baseline' } },
      { id: 'sg-2', tags: { 'kubernetes.io/cluster/int32bit-kubernetes': 'shared' } },
      { id: 'sg-4', tags: theirs },
      { id: 'sg-5', tags: legacy },
      { id: 'sg-0', tags: { 'kubernetes.io/cluster/int32bit-kubernetes': 'owned' } },
    ];
    const { owned, shared } = selectClusterSecurityGroups(groups, cluster);
    expect(owned.map((g) => g.id)).toEqual(['sg-0', 'sg-3']);
    expect(shared.map((g) => g.id)).toEqual(['sg-2', 'sg-5']);
  });
});
