// The annotate-first path's bookkeeping: pending grants in the record view, what a write records, what
// the record contradicts, and annotations adopted after a crash. The Kubernetes client and the status
// writer are stubbed at core's typed boundary; the merge itself is pure.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPool, EniPoolAllocation, EniPoolStatus } from '@kube-iaas/crds';
import { KubeApiError, type KubeClient, type StatusWriter } from '@kube-iaas/core/runtime';
import { withPending } from '../../src/plan/index.ts';
import { adoptAnnotations } from '../../src/controllers/allocator.ts';
import { PoolStore } from '../../src/controllers/store.ts';

const grant = (uid: string, ip: string, eniId = 'eni-0', deviceIndex = 0): EniPoolAllocation => ({
  ip,
  eniId,
  deviceIndex,
  routeTable: deviceIndex === 0 ? 254 : deviceIndex + 1,
  podNamespace: 'default',
  podName: `p-${uid}`,
  podUid: uid,
  allocatedAt: '2026-11-27T12:00:00.000Z',
});

function recorded(over: Partial<EniPoolStatus> = {}): EniPoolStatus {
  return {
    capacity: { maxEnis: 3, ipsPerEni: 10, podAddresses: 27, maxPods: 29 },
    enis: [
      { eniId: 'eni-0', deviceIndex: 0, secondaryIps: ['10.0.0.10', '10.0.0.11', '10.0.0.12'] },
      { eniId: 'eni-1', deviceIndex: 1, secondaryIps: ['10.0.1.10'] },
    ],
    allocations: [grant('a', '10.0.0.10')],
    cooling: [{ ip: '10.0.0.12', eniId: 'eni-0', releasedAt: '2026-11-27T12:00:00.000Z' }],
    ...over,
  };
}

describe('withPending', () => {
  it('adds pending grants to the record and counts them', () => {
    const r = withPending(recorded(), [grant('b', '10.0.0.11')]);
    expect(r.status.allocations?.map((a) => a.podUid)).toEqual(['a', 'b']);
    expect(r.status.summary).toMatchObject({ used: 2, free: 1, cooling: 1 });
    expect(r.conflicts).toEqual([]);
  });
  it('a grant the record holds is recorded, not added twice', () => {
    const r = withPending(recorded(), [grant('a', '10.0.0.10')]);
    expect(r.recorded).toHaveLength(1);
    expect(r.status.allocations).toHaveLength(1);
  });
  it('the record wins: an address held by another pod or cooling, a pod recorded elsewhere, an address gone from the pool', () => {
    const pending = [grant('x', '10.0.0.10'), grant('y', '10.0.0.12'), grant('a', '10.0.1.10', 'eni-1', 1), grant('z', '10.0.9.9')];
    const r = withPending(recorded(), pending);
    expect(r.conflicts.map((a) => a.podUid)).toEqual(['x', 'y', 'a', 'z']);
    expect(r.status.allocations).toHaveLength(1);
  });
  it('two pending grants of one address: only the first', () => {
    const r = withPending(recorded(), [grant('b', '10.0.0.11'), grant('c', '10.0.0.11')]);
    expect(r.status.allocations?.map((a) => a.podUid)).toEqual(['a', 'b']);
    expect(r.conflicts.map((a) => a.podUid)).toEqual(['c']);
  });
});

describe('adoptAnnotations (a crash between the annotation and the record)', () => {
  const pool = (status: EniPoolStatus): EniPool => ({ apiVersion: 'network.kube-iaas.dev/v1alpha1', kind: 'EniPool', metadata: { name: 'n' }, spec: { instanceId: 'i-1', instanceType: 'c5.large' }, status }) as EniPool;
  const pod = (uid: string, ann: Record<string, string>, extra: Partial<V1Pod['status']> = {}): V1Pod => ({
    metadata: { uid, name: `p-${uid}`, namespace: 'default', annotations: ann, creationTimestamp: new Date('2026-11-27T11:00:00Z') },
    spec: { nodeName: 'n', containers: [] },
    status: { phase: 'Running', ...extra },
  });
  it('takes back a free address of the pool with its ENI from the record', () => {
    const out = adoptAnnotations(pool(recorded()), [pod('b', { 'network.kube-iaas.dev/ip': '10.0.1.10', 'network.kube-iaas.dev/eni': 'eni-1', 'network.kube-iaas.dev/device-index': '1' })]);
    expect(out).toEqual([expect.objectContaining({ podUid: 'b', ip: '10.0.1.10', eniId: 'eni-1', deviceIndex: 1, routeTable: 2 })]);
  });
  it('leaves out: an address held by another pod or cooling, one not in the pool, a pod already recorded, a finished pod, a mismatched ENI, and a second pod with the same address', () => {
    const pods = [
      pod('b', { 'network.kube-iaas.dev/ip': '10.0.0.10' }),
      pod('c', { 'network.kube-iaas.dev/ip': '10.0.0.12' }),
      pod('d', { 'network.kube-iaas.dev/ip': '10.0.7.7' }),
      pod('a', { 'network.kube-iaas.dev/ip': '10.0.0.11' }),
      pod('e', { 'network.kube-iaas.dev/ip': '10.0.0.11' }, { phase: 'Succeeded' }),
      pod('f', { 'network.kube-iaas.dev/ip': '10.0.0.11', 'network.kube-iaas.dev/eni': 'eni-1' }),
      pod('g', { 'network.kube-iaas.dev/ip': '10.0.0.11' }),
      pod('h', { 'network.kube-iaas.dev/ip': '10.0.0.11' }),
    ];
    expect(adoptAnnotations(pool(recorded()), pods).map((a) => a.podUid)).toEqual(['g']);
  });
});

describe('PoolStore with pending grants', () => {
  function setup() {
    let server: EniPool = { apiVersion: 'network.kube-iaas.dev/v1alpha1', kind: 'EniPool', metadata: { name: 'n', uid: 'u1', resourceVersion: '1' }, spec: { instanceId: 'i-1', instanceType: 'c5.large' }, status: recorded() } as EniPool;
    let cached = server;
    const cache = { get: () => cached };
    const writes: EniPoolStatus[] = [];
    const during: string[][] = [];
    const writer = {
      replace: async (_t: unknown, current: EniPool, status: EniPoolStatus) => {
        during.push([...store.leaving('n')]);
        if (current.metadata.resourceVersion !== server.metadata.resourceVersion) throw new KubeApiError('the object has been modified', 409);
        writes.push(status);
        server = { ...server, status, metadata: { ...server.metadata, resourceVersion: String(Number(server.metadata.resourceVersion) + 1) } };
        return { written: true, object: server };
      },
    } as unknown as StatusWriter;
    const client = { get: async () => server } as unknown as KubeClient;
    const conflicts: EniPoolAllocation[] = [];
    const store = new PoolStore(cache, client, writer, (_p, a) => conflicts.push(a));
    const setServer = (s: EniPoolStatus, cacheLags = false) => {
      server = { ...server, status: s, metadata: { ...server.metadata, resourceVersion: String(Number(server.metadata.resourceVersion) + 1) } };
      if (!cacheLags) cached = server;
    };
    return { store, writes, conflicts, setServer, during };
  }

  it('a pending grant is in every view, and the next write of the pool (any writer) records it', async () => {
    const { store, writes } = setup();
    store.addPending('n', grant('b', '10.0.0.11'));
    expect(store.current('n')?.status?.allocations?.map((a) => a.podUid)).toEqual(['a', 'b']);
    // A writer that changes only conditions still records the grant, because the patch is computed
    // against the record without it.
    await store.update('n', (p) => ({ status: { ...p.status, conditions: [] }, result: undefined }));
    expect(writes[0]?.allocations?.map((a) => a.podUid)).toEqual(['a', 'b']);
    expect(store.pendingCount('n')).toBe(0);
  });

  it('a grant the newest record contradicts (another writer took the address) is dropped and reported', async () => {
    const { store, conflicts, setServer } = setup();
    store.addPending('n', grant('b', '10.0.0.11'));
    setServer(recorded({ allocations: [grant('a', '10.0.0.10'), grant('q', '10.0.0.11')] }));
    const view = store.current('n');
    expect(view?.status?.allocations?.map((a) => a.podUid)).toEqual(['a', 'q']);
    expect(conflicts.map((a) => a.podUid)).toEqual(['b']);
    expect(store.pendingCount('n')).toBe(0);
  });

  it('addresses a write takes out of the record are "leaving" while it is under way, so a grant that is not a write cannot pick them', async () => {
    const { store, during } = setup();
    await store.update('n', (p) => ({ status: { ...p.status, enis: [p.status!.enis![0]!] }, result: ['10.0.1.10'] }), { leaving: (ips) => ips });
    expect(during).toEqual([['10.0.1.10']]);
    expect([...store.leaving('n')]).toEqual([]);
  });

  it('on a 409 the change is computed again on the newest record, pending grants included', async () => {
    const { store, writes, setServer } = setup();
    store.addPending('n', grant('b', '10.0.0.11'));
    // Another writer recorded pod r; this process's cache has not seen it yet.
    setServer(recorded({ allocations: [grant('a', '10.0.0.10'), grant('r', '10.0.1.10', 'eni-1', 1)] }), true);
    const seen: string[][] = [];
    await store.update('n', (p) => {
      seen.push((p.status?.allocations ?? []).map((a) => a.podUid));
      return { status: { ...p.status, conditions: [] }, result: undefined };
    });
    expect(store.conflicts).toBe(1);
    expect(seen).toEqual([['a', 'b'], ['a', 'r', 'b']]);
    expect(writes.at(-1)?.allocations?.map((a) => a.podUid)).toEqual(['a', 'r', 'b']);
  });
});
