/**
 * The sample operator keeps running through a kube-apiserver restart and catches up: its watch
 * breaks, list/watch fail while the server is down, it reconnects with backoff (resuming from its
 * resourceVersion, or relisting on 410), and reconciles what changed while it was disconnected —
 * without ever exiting.
 */
import { randomBytes } from 'node:crypto';
import { restartComponent, testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, resources, type KubeObject } from '../../src/runtime/index.ts';
import { HASH_ANNOTATION as HASH, dataHash } from '../fixtures/sample-shared.ts';
import { eventually, startSampleOperator, type OperatorProcess } from '../fixtures/processes.ts';

const ns = `rt-restart-${randomBytes(3).toString('hex')}`;
let client: KubeClient;
let op: OperatorProcess | undefined;

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function hashOf(name: string): Promise<string | undefined> {
  const cm = await client.get<ConfigMap>(resources.ConfigMap, name, ns);
  return cm?.metadata?.annotations?.[HASH];
}

async function createConfigMap(name: string, data: Record<string, string>): Promise<void> {
  await client.create(resources.ConfigMap, {
    metadata: { name, namespace: ns, labels: { 'kube-iaas.dev/sample': 'true' } },
    data,
  } as KubeObject);
}

beforeAll(async () => {
  client = new KubeClient(testbedKubeConfig());
  await client.create(resources.Namespace, { metadata: { name: ns } });
});

afterAll(async () => {
  op?.kill('SIGKILL');
  await client.delete(resources.Namespace, { name: ns }).catch(() => undefined);
  await client.close();
});

describe('kube-apiserver restart', () => {
  it('the operator survives it without exiting and reconciles what changed meanwhile', async () => {
    await createConfigMap('steady', { a: '1' });
    await createConfigMap('changed', { a: '1' });
    // a fixed 30s reconnect delay makes sure the operator is still disconnected when the API server
    // is back and the changes below are made (the default grows from 500ms to 30s)
    op = startSampleOperator(
      'restart',
      [`--namespace=${ns}`, '--no-leader-elect', '--metrics-bind-address=127.0.0.1:0', '--informer-backoff=30s'],
      testbedEnv().env,
    );
    await eventually(async () => ((await hashOf('steady')) === dataHash({ a: '1' }) ? true : undefined), 60_000, 'steady reconciled');
    await eventually(async () => ((await hashOf('changed')) === dataHash({ a: '1' }) ? true : undefined), 60_000, 'changed reconciled');

    // down for a few seconds: the operator's watch breaks and its reconnects fail meanwhile
    await restartComponent('kube-apiserver', { downtimeMs: 4_000 });
    const restartedAt = Date.now();

    // changes made as soon as the server is back, while the operator is still backing off
    await client.patch(resources.ConfigMap, { name: 'changed', namespace: ns }, { data: { a: '2' } });
    await createConfigMap('created-after', { b: '1' });
    await client.delete(resources.ConfigMap, { name: 'steady', namespace: ns });
    const changedAt = Date.now();
    expect(op.logs.some((l) => l.msg === 'list/watch re-established')).toBe(false);

    await eventually(async () => ((await hashOf('changed')) === dataHash({ a: '2' }) ? true : undefined), 90_000, 'the update to be reconciled');
    await eventually(async () => ((await hashOf('created-after')) === dataHash({ b: '1' }) ? true : undefined), 90_000, 'the new object to be reconciled');
    const back = (await op.waitForLog((l) => l.msg === 'list/watch re-established')) as { time: string; relisted: boolean; disconnectedMs: number };
    expect(Date.parse(back.time)).toBeGreaterThan(changedAt); // the changes happened while it was disconnected
    console.log(
      `disconnected ${back.disconnectedMs}ms (relisted: ${back.relisted}); caught up ${Date.now() - restartedAt}ms after the API server came back`,
    );

    expect(op.exited).toBe(false);
    const failures = op.logs.filter((l) => l.msg === 'list/watch failed; reconnecting');
    expect(failures.length).toBeGreaterThan(0); // it really saw the outage
    expect(op.logs.some((l) => typeof l.level === 'number' && l.level >= 60)).toBe(false); // nothing fatal

    // and it is still healthy and serving
    const started = op.logs.find((l) => l.msg === 'operator started') as { metrics?: string } | undefined;
    const res = await fetch(`http://${started!.metrics}/readyz`);
    expect(res.status).toBe(200);
  });
});
