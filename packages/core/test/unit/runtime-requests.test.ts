/**
 * What the runtime's Kubernetes helpers put on the wire: a local HTTP listener records each
 * request (method, path, content type, body) and answers with a canned status. Behaviour against
 * a real API server is covered by the integration tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../src/metrics.ts';
import {
  EventRecorder,
  HealthServer,
  KubeApiError,
  KubeClient,
  Operator,
  StatusWriter,
  addFinalizer,
  removeFinalizer,
  resources,
  type KubeObject,
  type ResourceType,
} from '../../src/runtime/index.ts';

interface Recorded {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

let server: Server;
let base = '';
let recorded: Recorded[] = [];
let reply: (r: Recorded) => { status: number; body?: unknown } = () => ({ status: 200, body: {} });

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const r: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        body: data ? JSON.parse(data) : undefined,
      };
      expect(req.headers.authorization).toBe('Bearer test-token');
      recorded.push(r);
      const out = reply(r);
      res.writeHead(out.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(out.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  recorded = [];
  reply = (r) => ({ status: 200, body: { apiVersion: 'v1', kind: 'Thing', metadata: { name: 'n', resourceVersion: '2' }, echo: r.body } });
});

const thing: ResourceType = { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', plural: 'networkloadbalancers', namespaced: true };
const obj = (finalizers?: string[]) => ({
  apiVersion: 'elb.kube-iaas.dev/v1alpha1',
  kind: 'NetworkLoadBalancer',
  metadata: { name: 'web', namespace: 'default', resourceVersion: '41', ...(finalizers ? { finalizers } : {}) },
});

describe('finalizers', () => {
  it('adds with a JSON patch guarded by resourceVersion, keeping other finalizers', async () => {
    const client = new KubeClient(kubeConfig());
    await addFinalizer(client, thing, obj(['other/finalizer']), 'elb.kube-iaas.dev/finalizer');
    expect(recorded).toEqual([
      {
        method: 'PATCH',
        url: '/apis/elb.kube-iaas.dev/v1alpha1/namespaces/default/networkloadbalancers/web',
        contentType: 'application/json-patch+json',
        body: [
          { op: 'replace', path: '/metadata/resourceVersion', value: '41' },
          { op: 'add', path: '/metadata/finalizers', value: ['other/finalizer', 'elb.kube-iaas.dev/finalizer'] },
        ],
      },
    ]);
  });

  it('makes no request when the finalizer is already there', async () => {
    const client = new KubeClient(kubeConfig());
    const o = obj(['elb.kube-iaas.dev/finalizer']);
    expect(await addFinalizer(client, thing, o, 'elb.kube-iaas.dev/finalizer')).toBe(o);
    expect(recorded).toEqual([]);
  });

  it('propagates a conflict as a KubeApiError of kind conflict', async () => {
    reply = () => ({ status: 409, body: { kind: 'Status', reason: 'Conflict', message: 'the object has been modified', code: 409 } });
    const client = new KubeClient(kubeConfig());
    const err = await addFinalizer(client, thing, obj(), 'f').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 409, kind: 'conflict', reason: 'Conflict' });
    expect((err as Error).message).toContain('the object has been modified');
  });

  it('treats an object that is already gone as removed', async () => {
    reply = () => ({ status: 404, body: { kind: 'Status', reason: 'NotFound', code: 404 } });
    const client = new KubeClient(kubeConfig());
    expect(await removeFinalizer(client, thing, obj(['f', 'g']), 'f')).toBeUndefined();
    expect(recorded[0]!.body).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '41' },
      { op: 'add', path: '/metadata/finalizers', value: ['g'] },
    ]);
  });

  it('reports a connection failure as a retryable KubeApiError', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const err = await new KubeClient(kc).get(resources.ConfigMap, 'x', 'default').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 0, kind: 'retryable' });
  });
});

describe('StatusWriter', () => {
  it('skips the write when nothing changed and otherwise patches only the difference', async () => {
    const w = new StatusWriter(new KubeClient(kubeConfig()));
    const current: KubeObject & { status?: Record<string, unknown> } = {
      ...obj(),
      status: { phase: 'Active', dnsName: 'web.elb', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const same = await w.replace(thing, current, structuredClone(current.status!));
    expect(same.written).toBe(false);
    expect(recorded).toEqual([]);
    const merged = await w.merge(thing, current, { phase: 'Active' });
    expect(merged.written).toBe(false);
    expect(recorded).toEqual([]);

    const r = await w.replace(thing, current, { phase: 'Active', conditions: [{ type: 'Ready', status: 'False' }] });
    expect(r.written).toBe(true);
    expect(recorded).toEqual([
      {
        method: 'PATCH',
        url: '/apis/elb.kube-iaas.dev/v1alpha1/namespaces/default/networkloadbalancers/web/status',
        contentType: 'application/merge-patch+json',
        body: { status: { dnsName: null, conditions: [{ type: 'Ready', status: 'False' }] } },
      },
    ]);
  });

  it('sends the resourceVersion when asked for an optimistic write', async () => {
    const w = new StatusWriter(new KubeClient(kubeConfig()));
    await w.merge(thing, obj(), { phase: 'Pending' }, { optimistic: true });
    expect(recorded[0]!.body).toEqual({ status: { phase: 'Pending' }, metadata: { resourceVersion: '41' } });
  });
});

describe('EventRecorder', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', resourceVersion: '9' } };

  it('writes a repeated event once and aggregates the repeats into its count', async () => {
    const rec = new EventRecorder(new KubeClient(kubeConfig()), { component: 'kube-iaas-lb-operator', instance: 'pod-1', flushIntervalMs: 50 });
    for (let i = 0; i < 5; i++) rec.warning(svc, 'InvalidAnnotation', 'service.beta.kubernetes.io/aws-load-balancer-type: "xlb" is not nlb');
    await rec.flush();
    expect(recorded.map((r) => r.method)).toEqual(['POST', 'PATCH']);
    const created = recorded[0]!;
    expect(created.url).toBe('/api/v1/namespaces/default/events');
    expect(created.body).toMatchObject({
      involvedObject: { apiVersion: 'v1', kind: 'Service', name: 'web', namespace: 'default', uid: 'svc-uid' },
      type: 'Warning',
      reason: 'InvalidAnnotation',
      count: 1,
      source: { component: 'kube-iaas-lb-operator' },
      reportingComponent: 'kube-iaas-lb-operator',
      reportingInstance: 'pod-1',
    });
    const name = (created.body as { metadata: { name: string } }).metadata.name;
    expect(name).toMatch(/^web\.[0-9a-f]+$/);
    expect(recorded[1]!.url).toBe(`/api/v1/namespaces/default/events/${name}`);
    expect(recorded[1]!.body).toMatchObject({ count: 5 });
  });

  it('caps distinct events per object with a token bucket', async () => {
    const rec = new EventRecorder(new KubeClient(kubeConfig()), { component: 'c', burst: 3 });
    for (let i = 0; i < 10; i++) rec.normal(svc, `Reason${i}`, 'm');
    await rec.flush();
    expect(recorded.filter((r) => r.method === 'POST')).toHaveLength(3);
  });

  it('never throws when the API server refuses', async () => {
    reply = () => ({ status: 403, body: { reason: 'Forbidden', code: 403 } });
    const rec = new EventRecorder(new KubeClient(kubeConfig()), { component: 'c' });
    await expect(rec.record(svc, 'Normal', 'Created', 'x')).resolves.toBeUndefined();
  });

  it('files events of cluster-scoped objects in the default namespace', async () => {
    const rec = new EventRecorder(new KubeClient(kubeConfig()), { component: 'c' });
    await rec.record({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u' } }, 'Normal', 'EniAttached', 'eni-1');
    expect(recorded[0]!.url).toBe('/api/v1/namespaces/default/events');
    expect((recorded[0]!.body as { involvedObject: object }).involvedObject).not.toHaveProperty('namespace');
  });
});

describe('Operator on @dot-i/k8s-operator: the fixed base helpers', () => {
  class Sample extends Operator {
    protected async init(): Promise<void> {}
    uri(): string {
      return this.getCustomResourceApiUri('elb.kube-iaas.dev', 'v1alpha1', 'networkloadbalancers', 'default');
    }
    setFinalizers(): Promise<void> {
      return this.setResourceFinalizers(
        { id: 'networkloadbalancers.elb.kube-iaas.dev/v1alpha1', name: 'web', namespace: 'default', resourceVersion: '7', apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer' },
        ['elb.kube-iaas.dev/finalizer'],
      );
    }
    patchStatus(): Promise<unknown> {
      return this.patchResourceStatus(
        { id: 'networkloadbalancers.elb.kube-iaas.dev/v1alpha1', name: 'web', namespace: 'default', resourceVersion: '7', apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer' },
        { phase: 'Active' },
      );
    }
  }
  const make = () => new Sample({ name: 'sample', argv: ['--cluster-name=c1', '--metrics-bind-address=0'], env: {}, kubeConfig: kubeConfig() });

  it('builds resource URLs from the kubeconfig server (the base produced undefined/apis/...)', () => {
    expect(make().uri()).toBe(`${base}/apis/elb.kube-iaas.dev/v1alpha1/namespaces/default/networkloadbalancers`);
  });

  it('setResourceFinalizers sends a guarded JSON patch and propagates failures (the base swallowed them)', async () => {
    const op = make();
    await op.setFinalizers();
    expect(recorded[0]).toMatchObject({
      method: 'PATCH',
      url: '/apis/elb.kube-iaas.dev/v1alpha1/namespaces/default/networkloadbalancers/web',
      contentType: 'application/json-patch+json',
    });
    reply = () => ({ status: 500, body: { reason: 'InternalError', message: 'etcd timeout', code: 500 } });
    await expect(op.setFinalizers()).rejects.toMatchObject({ code: 500, kind: 'retryable' });
  });

  it('patchResourceStatus writes the status subresource with a merge patch', async () => {
    const op = make();
    reply = () => ({
      status: 200,
      body: { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', metadata: { name: 'web', namespace: 'default', resourceVersion: '8' } },
    });
    const meta = (await op.patchStatus()) as { resourceVersion: string };
    expect(meta.resourceVersion).toBe('8');
    expect(recorded[0]).toEqual({
      method: 'PATCH',
      url: '/apis/elb.kube-iaas.dev/v1alpha1/namespaces/default/networkloadbalancers/web/status',
      contentType: 'application/merge-patch+json',
      body: { status: { phase: 'Active' } },
    });
  });

  it('refuses a bad configuration naming the flag', () => {
    expect(() => new Sample({ name: 'sample', argv: ['--workers=x'], env: { CLUSTER_NAME: 'c' }, kubeConfig: kubeConfig() })).toThrow(
      /--workers=x: must be an integer/,
    );
  });
});

describe('HealthServer', () => {
  it('serves /healthz, /readyz with reasons, and /metrics', async () => {
    let synced = false;
    const h = new HealthServer({
      bindAddress: '127.0.0.1:0',
      registry: metricsRegistry,
      readiness: { informers: () => (synced ? undefined : 'waiting for the first list of pods') },
    });
    await h.start();
    const url = `http://127.0.0.1:${h.address!.port}`;
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain('[-]informers failed: waiting for the first list of pods');
      synced = true;
      const ready = await fetch(`${url}/readyz?verbose`);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toContain('[+]informers ok');
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(await metrics.text()).toContain('kube_iaas_workqueue_depth');
      expect((await fetch(`${url}/nope`)).status).toBe(404);
    } finally {
      await h.stop();
    }
  });

  it('validates the bind address', () => {
    expect(() => new HealthServer({ bindAddress: 'localhost', registry: metricsRegistry })).toThrow(/host:port/);
  });
});
