import { describe, expect, it } from 'vitest';
import { isDescribedBy, ownerDescription } from '../../src/index.ts';

describe('isDescribedBy', () => {
  const cluster = 'int32bit-kubernetes';
  const owner = { kind: 'ApplicationLoadBalancer', namespace: 'default', name: 'web', uid: 'u-1' };
  it('recognises the full and the UID-only description of exactly this owner', () => {
    expect(isDescribedBy(ownerDescription(cluster, owner), cluster, owner)).toBe(true);
    expect(isDescribedBy(`kube-iaas.dev cluster=${cluster} owner=ApplicationLoadBalancer uid=u-1`, cluster, owner)).toBe(true);
    expect(isDescribedBy(ownerDescription(cluster, { ...owner, uid: 'u-2' }), cluster, owner)).toBe(false);
    expect(isDescribedBy(ownerDescription('other', owner), cluster, owner)).toBe(false);
    expect(isDescribedBy(ownerDescription(cluster, { ...owner, kind: 'NetworkLoadBalancer' }), cluster, owner)).toBe(false);
    expect(isDescribedBy('allow web', cluster, owner)).toBe(false);
    expect(isDescribedBy(undefined, cluster, owner)).toBe(false);
  });
});
