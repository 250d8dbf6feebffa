// The article's §4 flow on the testbed, with the pod network wired for real: the node simulator runs the
// eni agent in each node's namespace and the CNI plugin through cnitool for every pod (testbed/README.md,
// "Pod network"). 30 pods on the c5.large 192.168.193.194: 27 get addresses configured in their namespaces
// and reachable from a pod on another node; the rest wait (ContainerCreating, NoAddressAvailable); deleted
// pods' addresses go to the waiting pods after the cooldown. Needs root (CI runs as root).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { netPrefix, podNetnsName, readState } from '@kube-iaas/testbed';
import { ENI_POOL_RESOURCE, IP_ANNOTATION } from '../../src/constants.ts';
import { OperatorProcess, clients, inCidr, waitFor, type Clients } from './harness.ts';
import { exec, must, netnsList, ping } from './cni-topology.ts';

const NS = 'default';
const LABEL = 'cni-art';
type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { name?: string } };

let c: Clients;
let op: OperatorProcess | undefined;
const prefix = netPrefix();
const account = readState()?.account;

const pod = (name: string, nodeName: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { app: LABEL } },
  spec: { nodeSelector: { 'kubernetes.io/hostname': nodeName }, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 },
});
const listPods = async (): Promise<V1Pod[]> => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items;
const nodeOf = async (instanceId: string): Promise<V1Node> =>
  waitFor(`node of ${instanceId}`, async () => (await c.kube.list<V1Node>(resources.Node)).items.find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`)));
const netnsOf = (p: V1Pod): string => podNetnsName(prefix, p.metadata!.namespace!, p.metadata!.name!, p.metadata!.uid!);
const nodeNs = (n: V1Node): string => `${prefix}-node-${n.metadata!.name!.split('.')[0]}`;
/** The IPv4 address on eth0 in the pod's namespace, as the kernel has it. */
const configured = (p: V1Pod): string | undefined => {
  const r = exec(netnsOf(p), ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0']);
  return r.status === 0 ? (JSON.parse(r.stdout) as { addr_info?: { local?: string; prefixlen?: number }[] }[])[0]?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`)[0] : undefined;
};
const running = (ps: V1Pod[]): V1Pod[] => ps.filter((p) => p.status?.phase === 'Running' && p.status.podIP);

async function deletePods(): Promise<void> {
  for (const p of await listPods()) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
  await waitFor('test pods gone', async () => (await listPods()).length === 0, 120_000, 500);
}

describe('§4 on the testbed: pods wired by the CNI plugin through cnitool', () => {
  let n1: V1Node;
  let n3: V1Node;
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('the CNI tests need root (network namespaces); CI runs them as root');
    if (!account) throw new Error('testbed account not seeded');
    c = clients();
    n1 = await nodeOf(account.instanceIds[0]!);
    n3 = await nodeOf(account.instanceIds[2]!);
    if (!netnsList().includes(nodeNs(n1))) throw new Error(`the node simulator runs no pod network (no netns ${nodeNs(n1)}); see its log: "CNI not run"`);
    await deletePods();
    op = await OperatorProcess.start(['--cooldown=2s']);
    for (const n of [n1, n3]) {
      const p = await waitFor('EniPool', () => c.kube.get<EniPool>(ENI_POOL_RESOURCE, n.metadata!.name!));
      if (p.spec.cooldownSeconds !== 2) await c.kube.patch(ENI_POOL_RESOURCE, { name: n.metadata!.name! }, { spec: { cooldownSeconds: 2 } });
    }
    // The operator serving (warm pools filled) before the first pod: the simulator gives a pod nobody annotates
    // while its pool has room a placeholder address after a while (an operator that is not running).
    for (const n of [n1, n3]) {
      await waitFor('pool warm', async () => ((await c.kube.get<EniPool>(ENI_POOL_RESOURCE, n.metadata!.name!))?.status?.summary?.free ?? 0) > 0, 120_000, 500);
    }
  }, 180_000);

  afterAll(async () => {
    if (c) await deletePods();
    // The pool is left serving (not at its limit), so pods of later tests are not held by a stale condition.
    if (c && n1) await waitFor('pool Ready again', async () => (await c.kube.get<EniPool>(ENI_POOL_RESOURCE, n1.metadata!.name!))?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'), 60_000, 500).catch(() => undefined);
    await op?.stop();
    // DEL runs as the pods go (a pod deleted with grace 0 is gone from the API first): wait for the last of them.
    const left = (): string[] => netnsList().filter((n) => n.startsWith(`${prefix}-pod-${NS}.${LABEL}-`));
    await waitFor('pod namespaces gone', async () => left().length === 0, 180_000, 1000).catch(() => undefined);
    expect(left()).toEqual([]);
  }, 480_000);

  it('30 pods on a c5.large: 27 configured and reachable from another node\'s pod, the rest wait naming the limit; deleted pods\' addresses go to the next', async () => {
    const privateA = account!.subnets.find((s) => s.role === 'private' && s.zone === account!.zones[0])!;
    const privateB = account!.subnets.find((s) => s.role === 'private' && s.zone === account!.zones[1])!;
    await c.kube.create(resources.Pod, pod(`${LABEL}-probe`, n3.metadata!.name!));
    const probe = await waitFor('probe pod Running', async () => running(await listPods()).find((p) => p.metadata!.name === `${LABEL}-probe`), 180_000, 500);
    expect(inCidr(probe.status!.podIP!, privateB.cidr)).toBe(true);
    expect(configured(probe)).toBe(`${probe.status!.podIP}/32`);

    for (let i = 0; i < 30; i++) await c.kube.create(resources.Pod, pod(`${LABEL}-${i}`, n1.metadata!.name!));
    const ours = async (): Promise<V1Pod[]> => (await listPods()).filter((p) => p.metadata!.name !== `${LABEL}-probe`);
    const served = await waitFor('27 pods Running', async () => {
      const r = running(await ours());
      return r.length >= 27 ? r : undefined;
    }, 180_000, 1000);
    await new Promise((r) => setTimeout(r, 3000));
    const pods = await ours();
    expect(running(pods)).toHaveLength(27);
    expect(served).toHaveLength(27);
    const ips = served.map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(27);
    for (const p of served) {
      expect(inCidr(p.status!.podIP!, privateA.cidr)).toBe(true);
      expect(p.status!.podIP).toBe(p.metadata!.annotations![IP_ANNOTATION]);
      // status.podIP is the address configured in the pod's own namespace (`ip netns list` shows it).
      expect(configured(p), netnsOf(p)).toBe(`${p.status!.podIP}/32`);
    }
    // Some of them sit on the secondary ENIs: their traffic is steered by a rule into the ENI's table.
    const rules = must('ip', ['-n', nodeNs(n1), 'rule', 'show']);
    expect(ips.filter((ip) => rules.includes(`from ${ip} to 192.168.192.0/22 lookup`)).length).toBeGreaterThanOrEqual(18);
    // Reachable from the pod on another node (another subnet, through the VPC namespace's gateways): bounded pings.
    // moto can hand one address to two ENIs (of two nodes of the subnet): both nodes answer ARP for it until the
    // operator's next pool round gives the copy back (README, moto table), so an address that misses is tried again.
    let unreachable = ips;
    for (let round = 0; round < 6 && unreachable.length; round++) {
      if (round) await new Promise((r) => setTimeout(r, 5000));
      unreachable = unreachable.filter((ip) => !ping(netnsOf(probe), ip, 2));
    }
    expect(unreachable).toEqual([]);

    // The others: bound ones wait in ContainerCreating with the CNI's message naming the pool's limit and an
    // Event from the operator; the node's max-pods (29) leaves the 30th unscheduled.
    const maxPods = Number(n1.status?.allocatable?.['pods']);
    const waiting = pods.filter((p) => p.spec?.nodeName && p.status?.phase !== 'Running');
    expect(waiting).toHaveLength(Math.min(30, maxPods) - 27);
    expect(pods.filter((p) => !p.spec?.nodeName)).toHaveLength(30 - Math.min(30, maxPods));
    await waitFor('waiting pods show the CNI error and have the Event', async () => {
      const now = await ours();
      const evs = (await c.kube.list<Ev>(resources.Event, { namespace: NS })).items.filter((e) => e.reason === 'NoAddressAvailable' && e.type === 'Warning');
      return waiting.every((w) => {
        const p = now.find((x) => x.metadata!.uid === w.metadata!.uid);
        const st = p?.status?.containerStatuses?.[0]?.state?.waiting;
        return st?.reason === 'ContainerCreating' && /AddressLimitReached/.test(st.message ?? '') &&
          evs.some((e) => e.involvedObject?.name === w.metadata!.name && /the c5\.large limit is 27/.test(e.message ?? ''));
      });
    }, 60_000, 1000);

    // Delete five served pods: their namespaces go, and the waiting pods get their addresses after the cooldown.
    const gone = served.slice(0, 5);
    for (const p of gone) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
    const freed = new Set(gone.map((p) => p.status!.podIP!));
    const next = await waitFor('waiting pods Running', async () => {
      const now = await ours();
      const r = now.filter((p) => waiting.some((w) => w.metadata!.uid === p.metadata!.uid) && p.status?.phase === 'Running');
      return r.length === waiting.length ? r : undefined;
    }, 90_000, 1000);
    await waitFor('deleted pods\' namespaces gone', async () => gone.every((p) => !netnsList().includes(netnsOf(p))), 120_000, 1000);
    for (const p of next) {
      expect(freed.has(p.status!.podIP!), `${p.metadata!.name} got ${p.status!.podIP}, freed ${[...freed].join(' ')}`).toBe(true);
      expect(configured(p)).toBe(`${p.status!.podIP}/32`);
      expect(ping(netnsOf(probe), p.status!.podIP!, 2)).toBe(true);
    }
    const all = running(await ours()).map((p) => p.status!.podIP!);
    expect(new Set(all).size).toBe(all.length);

    // Everything gone: no pod namespace, no pod veth, rule or SNAT rule left on the node.
    const left = ips.concat([...freed]);
    await deletePods();
    await waitFor('pod namespaces gone', async () => !netnsList().some((n) => n.startsWith(`${prefix}-pod-${NS}.${LABEL}-`)), 180_000, 1000);
    const links = JSON.parse(must('ip', ['-n', nodeNs(n1), '-j', 'link', 'show'])) as { ifname: string }[];
    expect(links.map((l) => l.ifname).filter((n) => n.startsWith('eni'))).toEqual([]);
    const rulesAfter = must('ip', ['-n', nodeNs(n1), 'rule', 'show']);
    const nft = exec(nodeNs(n1), ['nft', 'list', 'ruleset']).stdout;
    expect(left.filter((ip) => rulesAfter.includes(`${ip} `) || nft.includes(`${ip} `))).toEqual([]);
  });
});
