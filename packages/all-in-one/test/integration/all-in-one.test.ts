// The five operators in one process on the testbed: one /readyz carrying every operator's checks,
// one informer per shared resource, and the operators still doing their work through the shared
// client and caches (a LoadBalancer Service becomes a ready NLB and is cleaned up when deleted).
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { KubeClient, resources, type KubeObject } from '@kube-iaas/core/runtime';
import { OperatorProcess, testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const NS = `aio-${randomBytes(3).toString('hex')}`;
const NLB = { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', plural: 'networkloadbalancers', namespaced: true };

type Service = KubeObject & { status?: { loadBalancer?: { ingress?: { hostname?: string }[] } } };
type Nlb = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let op: OperatorProcess;
const kube = new KubeClient(testbedKubeConfig());

beforeAll(async () => {
  await kube.create(resources.Namespace, { metadata: { name: NS } });
  op = await OperatorProcess.start(MAIN, ['--no-leader-elect', '--lb.orphan-sweep-interval=2s'], 120_000);
});

afterAll(async () => {
  op?.child.kill('SIGTERM');
  await kube.delete(resources.Namespace, { name: NS }).catch(() => undefined);
});

describe('all-in-one: five operators, one process', () => {
  it('serves one /readyz with every operator checked', async () => {
    const body = await (await fetch(`http://127.0.0.1:${op.port}/readyz?verbose`)).text();
    for (const name of ['eni', 'ingress', 'lb', 'scaler', 'volume']) expect(body).toContain(`[+]${name}-operator/informers ok`);
  });

  it('keeps one informer per resource the operators share', async () => {
    const metrics = await op.metrics();
    const synced = (resource: string) => metrics.split('\n').filter((l) => l.startsWith('kube_iaas_informer_synced') && l.includes(`resource="${resource}"`));
    // nodes are watched by all five, services by lb + ingress, pods by eni + scaler
    for (const r of ['nodes.core', 'services.core', 'pods.core']) expect(synced(r)).toHaveLength(1);
    const started = op.output.find((l) => l.includes('"msg":"all-in-one started"'));
    expect(JSON.parse(started ?? '{}').informers).toBeLessThan(23); // 23 = the five operators' informers apart
  });

  it('still works: a LoadBalancer Service gets an NLB in AWS, removed again when the Service goes', async () => {
    await kube.create(resources.Service, {
      metadata: { name: 'web', namespace: NS, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
    } as KubeObject);
    await waitFor('NLB Ready', async () => (await kube.get<Nlb>(NLB, 'web', NS))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const hostname = await waitFor('hostname', async () => (await kube.get<Service>(resources.Service, 'web', NS))?.status?.loadBalancer?.ingress?.[0]?.hostname);
    const env = testbedEnv();
    const elb = new ElasticLoadBalancingV2Client({ region: env.region, endpoint: env.awsEndpoint, credentials: { accessKeyId: env.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.env.AWS_SECRET_ACCESS_KEY ?? '' } });
    const dns = async () => ((await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).map((l) => l.DNSName);
    expect(await dns()).toContain(hostname);
    await kube.delete(resources.Service, { name: 'web', namespace: NS });
    await waitFor('Service gone', async () => !(await kube.get(resources.Service, 'web', NS)));
    await waitFor('NLB gone from AWS', async () => !(await dns()).includes(hostname));
  });
});
