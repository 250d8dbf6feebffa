import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/runtime/client.ts';
import { ResourceMetaImpl } from '../../src/runtime/legacy.ts';
import { SharedInformers } from '../../src/runtime/shared.ts';
import { defaultTransform, slimPod, stripManagedFields } from '../../src/runtime/transforms.ts';
import { resources, type KubeObject } from '../../src/runtime/types.ts';

function client(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubeClient(kc);
}

describe('SharedInformers', () => {
  it('gives operators asking for the same resource one informer, with both indexes', () => {
    const s = new SharedInformers(client());
    const byNode = (p: KubeObject) => (p as { spec?: { nodeName?: string } }).spec?.nodeName;
    const a = s.acquire(resources.Pod, { indexers: { podNode: byNode } });
    const b = s.acquire(resources.Pod, { indexers: { byNode } });
    expect(b).toBe(a);
    expect(a.store.indexFunc('podNode')).toBe(byNode);
    expect(a.store.indexFunc('byNode')).toBe(byNode);
    expect(s.size).toBe(1);
  });

  it('keeps informers apart when transforms, selectors, namespaces or index functions differ', () => {
    const s = new SharedInformers(client());
    const base = s.acquire(resources.Pod, {});
    expect(s.acquire(resources.Pod, { transform: slimPod })).not.toBe(base);
    expect(s.acquire(resources.Pod, { transform: slimPod })).toBe(s.acquire(resources.Pod, { transform: slimPod }));
    expect(s.acquire(resources.Pod, { labelSelector: 'a=b' })).not.toBe(base);
    expect(s.acquire(resources.Pod, { namespace: 'ns1' })).not.toBe(base);
    const x = s.acquire(resources.Node, { indexers: { i: () => 'a' } });
    expect(s.acquire(resources.Node, { indexers: { i: () => 'b' } })).not.toBe(x);
  });

  it('stops an informer only when its last user releases it', async () => {
    const s = new SharedInformers(client());
    const a = s.acquire(resources.Service, {});
    s.acquire(resources.Service, {});
    await s.release(a);
    expect(s.size).toBe(1);
    await s.release(a);
    expect(s.size).toBe(0);
  });
});

describe('cache transforms', () => {
  const pod = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', managedFields: [{ manager: 'kubectl' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'app', image: 'i', env: [{ name: 'A', value: '1' }], command: ['x'], readinessProbe: {}, resources: { requests: { cpu: '1' } }, ports: [{ containerPort: 80 }] }],
      initContainers: [{ name: 'side', restartPolicy: 'Always', args: ['y'], volumeMounts: [] }],
    },
    status: { phase: 'Pending' },
  });

  it('stripManagedFields drops managedFields only', () => {
    const p = stripManagedFields(pod() as KubeObject);
    expect(p.metadata).not.toHaveProperty('managedFields');
    expect(p.metadata?.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
  });

  it('the default also drops kubectl last-applied-configuration and keeps other annotations', () => {
    const p = defaultTransform(pod() as KubeObject);
    expect(p.metadata).not.toHaveProperty('managedFields');
    expect(p.metadata?.annotations).toEqual({ keep: 'me' });
  });

  it('slimPod keeps where a pod fits (requests, ports, restartPolicy, nodeName, status) and drops how it runs', () => {
    const p = slimPod(pod() as KubeObject) as ReturnType<typeof pod>;
    expect(p.spec.containers[0]).toEqual({ name: 'app', image: 'i', resources: { requests: { cpu: '1' } }, ports: [{ containerPort: 80 }] });
    expect(p.spec.initContainers[0]).toEqual({ name: 'side', restartPolicy: 'Always' });
    expect(p.spec.nodeName).toBe('n1');
    expect(p.status).toEqual({ phase: 'Pending' });
    expect(p.metadata.annotations).toEqual({ keep: 'me' });
  });
});

describe('ResourceMetaImpl (the @dot-i/k8s-operator shape, without the package)', () => {
  it('builds the id from plural and apiVersion and refuses malformed objects', () => {
    const m = ResourceMetaImpl.createWithPlural('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n', resourceVersion: '3' } });
    expect(m).toMatchObject({ id: 'configmaps.v1', name: 'a', namespace: 'n', resourceVersion: '3', apiVersion: 'v1', kind: 'ConfigMap' });
    expect(() => ResourceMetaImpl.createWithId('x', { apiVersion: 'v1', metadata: { name: 'a' } })).toThrow(/Malformed event object for 'x'/);
  });
});
