import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { validateEniPoolSpec } from '@kube-iaas/crds';
import { parseZoneSubnets, translateNode } from '../../src/translate/index.ts';

const node = (over: Partial<V1Node['spec']> = {}, labels: Record<string, string> = { 'node.kubernetes.io/instance-type': 'c5.large' }): V1Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'ip-192-168-193-194.cn-northwest-1.compute.internal', uid: 'uid-1', labels },
  spec: { providerID: 'aws:///cn-northwest-1a/i-0123456789abcdef0', ...over },
});

describe('translateNode', () => {
  it('names the EniPool after the Node, owned by it, with instance ID and type', () => {
    const r = translateNode(node());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.pool.metadata.name).toBe('ip-192-168-193-194.cn-northwest-1.compute.internal');
    expect(r.pool.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', uid: 'uid-1', controller: true })]);
    expect(r.pool.spec).toEqual({ instanceId: 'i-0123456789abcdef0', instanceType: 'c5.large' });
    expect(validateEniPoolSpec(r.pool.spec).ok).toBe(true);
  });
  it('applies cluster-wide defaults and the per-AZ subnet override', () => {
    const r = translateNode(node(), { warmEni: 0, warmIp: 5, cooldownSeconds: 10, subnetsByZone: { 'cn-northwest-1a': 'subnet-0abc' } });
    expect(r.ok && r.pool.spec).toMatchObject({ warmEni: 0, warmIp: 5, cooldownSeconds: 10, subnetId: 'subnet-0abc' });
  });
  it('the beta instance-type label works too', () => {
    const r = translateNode(node({}, { 'beta.kubernetes.io/instance-type': 'c5.xlarge' }));
    expect(r.ok && r.pool.spec.instanceType).toBe('c5.xlarge');
  });
  it('a Node without providerID or instance type is refused, naming the fields', () => {
    const r = translateNode(node({ providerID: undefined }, {}));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field)).toEqual(['spec.providerID', 'metadata.labels["node.kubernetes.io/instance-type"]']);
  });
  it('parses zone=subnet lists (providerIDs: core\'s parseProviderId, tested there)', () => {
    expect(parseZoneSubnets(['a=subnet-01', 'b=subnet-02'])).toEqual({ a: 'subnet-01', b: 'subnet-02' });
    expect(() => parseZoneSubnets(['a:subnet-01'])).toThrow(/a:subnet-01/);
  });
});
