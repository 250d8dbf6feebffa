import { describe, expect, it } from 'vitest';
import {
  IndexedStore,
  assertOwnerAllowed,
  controllerOf,
  hasOwnerReference,
  objectKey,
  ownerReference,
  splitKey,
  withControllerReference,
  type KubeObject,
} from '../../src/runtime/index.ts';

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}
const pod = (ns: string, name: string, node?: string, rv = '1'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, resourceVersion: rv, uid: `uid-${ns}-${name}` },
  spec: node ? { nodeName: node } : {},
});

describe('IndexedStore', () => {
  it('keys by namespace/name and keeps indexes up to date on upsert and delete', () => {
    const s = new IndexedStore<Pod>({ byNode: (p) => p.spec?.nodeName });
    s.upsert(pod('a', 'p1', 'node-1'));
    s.upsert(pod('a', 'p2', 'node-1'));
    s.upsert(pod('b', 'p1', 'node-2'));
    s.upsert(pod('b', 'pending'));
    expect(s.size).toBe(4);
    expect(s.get('a/p1')?.spec?.nodeName).toBe('node-1');
    expect(s.byIndex('byNode', 'node-1').map(objectKey).sort()).toEqual(['a/p1', 'a/p2']);
    expect(s.indexValues('byNode').sort()).toEqual(['node-1', 'node-2']);
    // a pod moves: it leaves the old index bucket
    const old = s.upsert(pod('a', 'p2', 'node-2', '2'));
    expect(old?.metadata?.resourceVersion).toBe('1');
    expect(s.indexKeys('byNode', 'node-1')).toEqual(['a/p1']);
    expect(s.indexKeys('byNode', 'node-2').sort()).toEqual(['a/p2', 'b/p1']);
    expect(s.delete('a/p1')?.metadata?.name).toBe('p1');
    expect(s.byIndex('byNode', 'node-1')).toEqual([]);
    expect(s.indexValues('byNode').sort()).toEqual(['node-2']);
    expect(s.list('b').map(objectKey).sort()).toEqual(['b/p1', 'b/pending']);
    expect(() => s.byIndex('nope', 'x')).toThrow(/no index named nope/);
  });

  it('indexes existing objects when an index is added later, with multi-valued index functions', () => {
    const s = new IndexedStore<KubeObject>();
    s.upsert({ metadata: { name: 'n1', labels: { a: '1', b: '2' } } });
    s.upsert({ metadata: { name: 'n2', labels: { b: '2' } } });
    s.addIndex('byLabel', (o) => Object.entries(o.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`));
    expect(s.indexKeys('byLabel', 'b=2').sort()).toEqual(['n1', 'n2']);
    expect(s.indexKeys('byLabel', 'a=1')).toEqual(['n1']);
  });

  it('object keys round-trip', () => {
    expect(splitKey('ns/name')).toEqual({ namespace: 'ns', name: 'name' });
    expect(splitKey('cluster-scoped')).toEqual({ namespace: undefined, name: 'cluster-scoped' });
  });
});

describe('owner references', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'web', uid: 'svc-uid' } };
  const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace: 'default', name: 'data', uid: 'pvc-uid' } };
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ip-192-168-192-10', uid: 'node-uid' } };

  it('builds a controller reference that blocks owner deletion', () => {
    expect(ownerReference(svc)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      name: 'web',
      uid: 'svc-uid',
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(() => ownerReference({ metadata: { name: 'x', uid: 'u' } })).toThrow(/apiVersion\/kind/);
    expect(ownerReference({ metadata: { name: 'x', uid: 'u' } }, { type: { apiVersion: 'v1', kind: 'Node' } }).kind).toBe('Node');
    expect(() => ownerReference({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } })).toThrow(/uid/);
  });

  it('enforces the garbage collector scope rules', () => {
    expect(() => assertOwnerAllowed(svc, 'default')).not.toThrow();
    expect(() => assertOwnerAllowed(node, undefined)).not.toThrow();
    expect(() => assertOwnerAllowed(node, 'default')).not.toThrow();
    expect(() => assertOwnerAllowed(pvc, undefined)).toThrow('PersistentVolumeClaim default/data is namespaced and cannot own a cluster-scoped object');
    expect(() => assertOwnerAllowed(svc, 'other')).toThrow('Service default/web cannot own an object in namespace other');
  });

  it('sets the controller reference once and refuses a second controller', () => {
    const nlb: KubeObject = { metadata: { namespace: 'default', name: 'web', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'cm' }] } };
    const refs = withControllerReference(nlb, svc);
    expect(refs).toHaveLength(2);
    const owned = { metadata: { ...nlb.metadata, ownerReferences: refs } };
    expect(controllerOf(owned)?.uid).toBe('svc-uid');
    expect(hasOwnerReference(owned, svc)).toBe(true);
    expect(withControllerReference(owned, svc)).toHaveLength(2); // idempotent
    const other = { ...svc, metadata: { ...svc.metadata, uid: 'other-uid', name: 'web2' } };
    expect(() => withControllerReference(owned, other)).toThrow(/already controlled by Service web/);
  });
});
