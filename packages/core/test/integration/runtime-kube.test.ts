/**
 * The runtime's Kubernetes building blocks against the testbed's real API server and garbage
 * collector: informer (paginated list, watch, indexes, handlers, request counting), finalizers
 * guarded by resourceVersion, the status writer on a subresource, Event aggregation, owner
 * references honoured by the GC.
 */
import { randomBytes } from 'node:crypto';
import { testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventRecorder,
  Informer,
  Operator,
  KubeApiError,
  KubeClient,
  StatusWriter,
  addFinalizer,
  removeFinalizer,
  resources,
  withControllerReference,
  type KubeList,
  type KubeObject,
  type ResourceEvent,
} from '../../src/runtime/index.ts';
import { eventually } from '../fixtures/processes.ts';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Service extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { loadBalancer?: { ingress?: { hostname?: string; ip?: string }[] } };
}

const ns = `rt-kube-${randomBytes(3).toString('hex')}`;
let client: KubeClient;

const cm = (name: string, data: Record<string, string>, labels: Record<string, string> = { app: 'rt' }): ConfigMap => ({
  metadata: { name, namespace: ns, labels },
  data,
});

beforeAll(async () => {
  client = new KubeClient(testbedKubeConfig());
  await client.create(resources.Namespace, { metadata: { name: ns } });
});

afterAll(async () => {
  await client.delete(resources.Namespace, { name: ns }).catch(() => undefined);
  await client.close();
});

describe('Informer', () => {
  it('lists in pages, watches from the resourceVersion, keeps indexes and calls handlers', async () => {
    for (let i = 0; i < 5; i++) await client.create(resources.ConfigMap, cm(`inf-${i}`, { tier: i % 2 ? 'odd' : 'even' }));
    await client.create(resources.ConfigMap, cm('unlabelled', { tier: 'odd' }, { app: 'other' }));
    const seen: string[] = [];
    const inf = new Informer<ConfigMap>(client, resources.ConfigMap, {
      namespace: ns,
      labelSelector: 'app=rt',
      pageSize: 2,
      indexers: { byTier: (o) => o.data?.tier },
    });
    inf.on({
      add: (o) => seen.push(`add ${o.metadata?.name}`),
      update: (o, old) => seen.push(`update ${o.metadata?.name} ${old?.data?.tier}->${o.data?.tier}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    inf.start();
    try {
      expect(await inf.waitForSync(60_000)).toBe(true);
      expect(inf.keys().sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${ns}/inf-${i}`));
      expect(inf.requests).toEqual({ list: 3, watch: 1 }); // 5 objects in pages of 2, then one watch
      expect(inf.byIndex('byTier', 'odd').map((o) => o.metadata?.name).sort()).toEqual(['inf-1', 'inf-3']);
      // list items of built-in kinds come without apiVersion/kind; the informer fills them in
      expect(inf.getByName('inf-0', ns)).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
      expect(inf.getByName('inf-0', ns)?.metadata).not.toHaveProperty('managedFields');

      await client.patch(resources.ConfigMap, { name: 'inf-1', namespace: ns }, { data: { tier: 'even' } });
      await client.delete(resources.ConfigMap, { name: 'inf-4', namespace: ns });
      await client.create(resources.ConfigMap, cm('inf-5', { tier: 'odd' }));
      await eventually(() => (inf.getByName('inf-5', ns) && !inf.getByName('inf-4', ns) ? true : undefined), 30_000, 'watch events');
      expect(seen.slice(5)).toEqual(['update inf-1 odd->even', 'delete inf-4', 'add inf-5']);
      expect(inf.byIndex('byTier', 'odd').map((o) => o.metadata?.name).sort()).toEqual(['inf-3', 'inf-5']);
      expect(inf.requests).toEqual({ list: 3, watch: 1 }); // no reconnects on a healthy connection
    } finally {
      await inf.stop();
    }
  });
});

describe('finalizers', () => {
  it('adds and removes with a resourceVersion guard; a stale object gets 409 Conflict, not a lost finalizer', async () => {
    const created = await client.create(resources.ConfigMap, cm('fin', { a: '1' }));
    const withOther = await client.patch<ConfigMap>(resources.ConfigMap, { name: 'fin', namespace: ns }, { metadata: { finalizers: ['someone.else/keep'] } });
    // `created` is now stale: adding our finalizer on it must not drop someone.else/keep
    const err = await addFinalizer(client, resources.ConfigMap, created, 'core.kube-iaas.dev/test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 409, kind: 'conflict' });

    const added = await addFinalizer(client, resources.ConfigMap, withOther, 'core.kube-iaas.dev/test');
    expect(added.metadata?.finalizers).toEqual(['someone.else/keep', 'core.kube-iaas.dev/test']);

    await client.delete(resources.ConfigMap, { name: 'fin', namespace: ns });
    const deleting = await client.get<ConfigMap>(resources.ConfigMap, 'fin', ns);
    expect(deleting?.metadata?.deletionTimestamp).toBeTruthy();
    const afterOurs = await removeFinalizer(client, resources.ConfigMap, deleting!, 'core.kube-iaas.dev/test');
    expect(afterOurs?.metadata?.finalizers).toEqual(['someone.else/keep']);
    expect(await removeFinalizer(client, resources.ConfigMap, afterOurs!, 'someone.else/keep')).toBeDefined();
    expect(await eventually(async () => ((await client.get(resources.ConfigMap, 'fin', ns)) === undefined ? true : undefined), 10_000, 'deletion')).toBe(true);
  });
});

describe('StatusWriter', () => {
  it('writes the status subresource and skips the request when nothing changed', async () => {
    const svc = await client.create<Service>(resources.Service, {
      metadata: { name: 'status-demo', namespace: ns },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/none', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' } },
    });
    const w = new StatusWriter(client);
    const desired = { loadBalancer: { ingress: [{ hostname: 'status-demo-0123.elb.cn-northwest-1.amazonaws.com.cn' }] } };
    const before = client.requestCount;
    const first = await w.replace(resources.Service, svc, desired);
    expect(first.written).toBe(true);
    expect(first.object.status).toEqual(desired);
    const second = await w.replace(resources.Service, first.object, structuredClone(desired));
    expect(second.written).toBe(false);
    expect(client.requestCount - before).toBe(1);
    const read = await client.get<Service>(resources.Service, 'status-demo', ns);
    expect(read?.status).toEqual(desired);
    expect(read?.spec?.type).toBe('LoadBalancer'); // only the status changed
  });
});

describe('EventRecorder', () => {
  it('aggregates repeats into one Event with a count', async () => {
    const target = await client.create<ConfigMap>(resources.ConfigMap, cm('events', { a: '1' }));
    const rec = new EventRecorder(client, { component: 'kube-iaas-runtime-test', flushIntervalMs: 100 });
    for (let i = 0; i < 4; i++) rec.warning(target, 'InvalidAnnotation', 'kube-iaas.dev/example: "x" is not a number');
    rec.normal(target, 'Reconciled', 'ok');
    await rec.flush();
    const events = await client.list<KubeObject & { reason?: string; count?: number; type?: string }>(resources.Event, {
      namespace: ns,
      fieldSelector: 'involvedObject.name=events',
    });
    const byReason = Object.fromEntries((events as KubeList<{ reason?: string; count?: number }>).items.map((e) => [e.reason, e.count]));
    expect(byReason).toEqual({ InvalidAnnotation: 4, Reconciled: 1 });
  });
});

describe('owner references', () => {
  it('a dependent owned by a native object is garbage-collected with it', async () => {
    const owner = await client.create<Service>(resources.Service, {
      metadata: { name: 'owner', namespace: ns },
      spec: { ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' } },
    });
    const dependent: ConfigMap = cm('dependent', { a: '1' });
    dependent.metadata!.ownerReferences = withControllerReference(dependent, owner);
    await client.create(resources.ConfigMap, dependent);
    const read = await client.get<ConfigMap>(resources.ConfigMap, 'dependent', ns);
    expect(read?.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'owner', uid: owner.metadata!.uid, controller: true, blockOwnerDeletion: true },
    ]);
    await client.delete(resources.Service, { name: 'owner', namespace: ns });
    await eventually(async () => ((await client.get(resources.ConfigMap, 'dependent', ns)) === undefined ? true : undefined), 60_000, 'the GC to delete the dependent', 250);
  });
});

describe('Operator: the @dot-i/k8s-operator programming model on client-node 2.x', () => {
  const FINALIZER = 'core.kube-iaas.dev/legacy-test';

  class LegacyStyle extends Operator {
    readonly seen: string[] = [];
    readonly cleaned: string[] = [];
    protected async init(): Promise<void> {
      await this.watchResource(
        '',
        'v1',
        'configmaps',
        async (e: ResourceEvent) => {
          if (!(e.object.metadata?.labels ?? {})['legacy']) return;
          this.seen.push(`${e.type} ${e.meta.name}`);
          if (await this.handleResourceFinalizer(e, FINALIZER, async (ev) => void this.cleaned.push(ev.meta.name))) return;
        },
        ns,
      );
    }
  }

  it('watchResource + handleResourceFinalizer add the finalizer, run the delete action and let the object go', async () => {
    const op = new LegacyStyle({
      name: 'legacy-style',
      argv: ['--cluster-name=int32bit-kubernetes', '--no-leader-elect', '--metrics-bind-address=0', '--log-level=warn'],
      env: {},
      kubeConfig: testbedKubeConfig(),
    });
    await op.start();
    try {
      await client.create(resources.ConfigMap, cm('legacy', { a: '1' }, { legacy: 'yes' }));
      const withFinalizer = await eventually(async () => {
        const o = await client.get<ConfigMap>(resources.ConfigMap, 'legacy', ns);
        return o?.metadata?.finalizers?.includes(FINALIZER) ? o : undefined;
      }, 30_000, 'the finalizer');
      expect(withFinalizer.metadata?.finalizers).toEqual([FINALIZER]);
      await client.delete(resources.ConfigMap, { name: 'legacy', namespace: ns });
      await eventually(async () => ((await client.get(resources.ConfigMap, 'legacy', ns)) === undefined ? true : undefined), 30_000, 'deletion after cleanup');
      expect(op.cleaned).toEqual(['legacy']);
      expect(op.seen[0]).toBe('ADDED legacy');
      expect(op.seen).toContain('MODIFIED legacy');
    } finally {
      await op.stop();
    }
  });
});

