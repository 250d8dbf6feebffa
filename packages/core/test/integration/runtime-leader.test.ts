/**
 * Leader election between real processes on the testbed: two copies of the sample operator
 * campaign for one Lease; only the holder reconciles. kill -9 of the leader → the standby takes
 * over once the lease expires; SIGTERM of the leader → it finishes, releases the lease, and the
 * standby takes over on its next attempt.
 */
import { randomBytes } from 'node:crypto';
import { testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, resources, type KubeObject, type Lease } from '../../src/runtime/index.ts';
import { eventually, startSampleOperator, type OperatorProcess } from '../fixtures/processes.ts';
import { BY_ANNOTATION as BY } from '../fixtures/sample-shared.ts';

const LEASE_MS = 6_000;
const RETRY_MS = 500;
const ns = `rt-leader-${randomBytes(3).toString('hex')}`;
const leaseName = 'sample-operator';
let client: KubeClient;
let env: Record<string, string>;
const procs: OperatorProcess[] = [];

function start(identity: string, extra: string[] = []): OperatorProcess {
  const p = startSampleOperator(
    identity,
    [
      `--namespace=${ns}`,
      '--leader-elect',
      `--leader-elect-namespace=${ns}`,
      `--leader-elect-id=${leaseName}`,
      `--leader-elect-identity=${identity}`,
      `--leader-elect-lease-duration=${LEASE_MS}ms`,
      '--leader-elect-renew-deadline=4s',
      `--leader-elect-retry-period=${RETRY_MS}ms`,
      '--metrics-bind-address=127.0.0.1:0',
      '--shutdown-timeout=10s',
      ...extra,
    ],
    env,
  );
  procs.push(p);
  return p;
}

async function holder(): Promise<string | undefined> {
  const lease = await client.get<Lease>(resources.Lease, leaseName, ns);
  return lease?.spec?.holderIdentity ?? undefined;
}

async function createConfigMap(name: string, data: Record<string, string>): Promise<void> {
  await client.create(resources.ConfigMap, {
    metadata: { name, namespace: ns, labels: { 'kube-iaas.dev/sample': 'true' } },
    data,
  } as KubeObject);
}

async function reconciledBy(name: string): Promise<string | undefined> {
  const cm = await client.get(resources.ConfigMap, name, ns);
  return cm?.metadata?.annotations?.[BY];
}

const reconciles = (p: OperatorProcess) => p.logs.filter((l) => l.msg === 'reconciled').length;

beforeAll(async () => {
  env = testbedEnv().env;
  client = new KubeClient(testbedKubeConfig());
  await client.create(resources.Namespace, { metadata: { name: ns } });
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await client.delete(resources.Namespace, { name: ns }).catch(() => undefined);
  await client.close();
});

describe('leader election between two operator processes', () => {
  it('only the leader reconciles; after kill -9 the standby takes over when the lease expires', async () => {
    const a = start('replica-a');
    await a.waitForLog((l) => l.msg === 'acquired the lease; leading');
    const b = start('replica-b');
    await b.waitForLog((l) => l.msg === 'informer synced'); // standby: caches warm, campaigning
    expect(await holder()).toBe('replica-a');

    await createConfigMap('before-failover', { v: '1' });
    expect(await eventually(() => reconciledBy('before-failover'), 30_000, 'the leader to reconcile')).toBe('replica-a');
    // the standby had the same informer events but ran no reconcile and no workers
    await new Promise((r) => setTimeout(r, 1_000));
    expect(reconciles(b)).toBe(0);
    expect(b.logs.some((l) => l.msg === 'controller started')).toBe(false);

    a.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(async () => ((await holder()) === 'replica-b' ? true : undefined), LEASE_MS * 3, 'replica-b to hold the lease', 50);
    const takeoverMs = Date.now() - killedAt;
    console.log(`takeover after kill -9: ${takeoverMs}ms (lease duration ${LEASE_MS}ms, retry period ${RETRY_MS}ms)`);
    // the standby must wait for the lease to expire on its own clock: the last renewal it saw
    // happened at most one retry period before the kill, and it looks every ~retry period
    expect(takeoverMs).toBeGreaterThan(LEASE_MS - 2 * RETRY_MS);
    expect(takeoverMs).toBeLessThan(LEASE_MS + 3 * RETRY_MS + 1_000);

    await createConfigMap('after-failover', { v: '2' });
    expect(await eventually(() => reconciledBy('after-failover'), 30_000, 'the new leader to reconcile')).toBe('replica-b');
    expect(b.exited).toBe(false);
  });

  it('SIGTERM releases the lease so a standby takes over at once', async () => {
    const b = procs.find((p) => p.name === 'replica-b')!;
    const c = start('replica-c');
    await c.waitForLog((l) => l.msg === 'informer synced');
    expect(await holder()).toBe('replica-b');

    b.kill('SIGTERM');
    const termAt = Date.now();
    await eventually(async () => ((await holder()) === 'replica-c' ? true : undefined), LEASE_MS * 3, 'replica-c to hold the lease', 50);
    const takeoverMs = Date.now() - termAt;
    console.log(`takeover after SIGTERM: ${takeoverMs}ms (lease duration ${LEASE_MS}ms)`);
    expect(takeoverMs).toBeLessThan(LEASE_MS / 2);

    const exit = await b.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(b.logs.some((l) => l.msg === 'released the lease')).toBe(true);

    await createConfigMap('after-handover', { v: '3' });
    expect(await eventually(() => reconciledBy('after-handover'), 30_000, 'replica-c to reconcile')).toBe('replica-c');
  });

  it('SIGTERM lets the reconcile in flight finish before the lease is handed over', async () => {
    const c = procs.find((p) => p.name === 'replica-c')!;
    c.kill('SIGTERM');
    expect((await c.exit).code).toBe(0);
    const d = start('replica-d', ['--reconcile-delay=3s']);
    await d.waitForLog((l) => l.msg === 'acquired the lease; leading');
    const e = start('replica-e');
    await e.waitForLog((l) => l.msg === 'informer synced');

    await createConfigMap('slow', { v: '4' });
    await d.waitForLog((l) => l.msg === 'reconciling' && l.key === `${ns}/slow`);
    d.kill('SIGTERM'); // 3s of reconcile left
    expect(await d.exit).toEqual({ code: 0, signal: null });
    const finished = (await d.waitForLog((l) => l.msg === 'reconciled' && l.key === `${ns}/slow`)) as { time: string };
    const stopped = (await d.waitForLog((l) => l.msg === 'controller stopped')) as { drained: boolean };
    expect(stopped.drained).toBe(true);
    expect(await reconciledBy('slow')).toBe('replica-d'); // the write of the reconcile in flight happened

    const took = (await e.waitForLog((l) => l.msg === 'acquired the lease; leading', 15_000)) as { time: string };
    expect(Date.parse(took.time)).toBeGreaterThanOrEqual(Date.parse(finished.time)); // no overlap
    expect(reconciles(e)).toBe(0); // nothing left to do: the object is already reconciled
  });
});
