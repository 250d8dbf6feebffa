// Shared pieces of the volume-operator's integration tests: the operator as a child process, clients
// for the testbed's API server and moto, waiting, and the node-side stand-ins the testbed lacks.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DescribeVolumesCommand, EC2Client, type Volume } from '@aws-sdk/client-ec2';
import { KubeClient, resources, type KubeObject } from '@kube-iaas/core/runtime';
import { freePort, operatorIdentityEnv, testbedEnv, testbedKubeConfig, repoRoot } from '@kube-iaas/testbed/testing';
import { DRIVER_NAME } from '../../src/constants.ts';
import { parseProviderId, type Node, type PersistentVolumeClaim } from '../../src/translate/index.ts';

export const tb = testbedEnv();
// The SDK in this process reads the same variables the operator gets.
Object.assign(process.env, tb.env);

export const kube = new KubeClient(testbedKubeConfig(), { userAgent: 'volume-operator-it' });
export const ec2 = new EC2Client({ region: tb.region, endpoint: tb.awsEndpoint });

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns something truthy; throws with `what` and the last value on timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

export interface RunningOperator {
  proc: ChildProcess;
  logs: string[];
  metricsUrl: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
}

/** Starts `src/main.ts` as its own process against the testbed and waits for /readyz. */
export async function startOperator(opts: { args?: string[]; env?: Record<string, string> } = {}): Promise<RunningOperator> {
  const p = await freePort();
  const main = join(repoRoot(), 'packages', 'volume-operator', 'src', 'main.ts');
  const proc = spawn(process.execPath, [main, `--metrics-bind-address=127.0.0.1:${p}`, '--leader-elect=false', '--orphan-scan-interval=0', ...(opts.args ?? [])], {
    // Its own ServiceAccount and IAM user (testbed/README.md, "Identities").
    env: { ...process.env, ...tb.env, LOG_LEVEL: 'info', ...operatorIdentityEnv('volume-operator'), ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line) logs.push(line);
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const metricsUrl = `http://127.0.0.1:${p}`;
  await waitFor(
    'operator /readyz',
    async () => {
      if (proc.exitCode !== null) throw new Error(`operator exited ${proc.exitCode}: ${logs.slice(-5).join('\n')}`);
      const r = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
      return r?.ok;
    },
    60_000,
  );
  return {
    proc,
    logs,
    metricsUrl,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export async function describeVolume(volumeId: string): Promise<Volume | undefined> {
  try {
    return (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0];
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidVolume.NotFound') return undefined;
    throw err;
  }
}

export async function volumesTagged(key: string, value: string): Promise<Volume[]> {
  return (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${key}`, Values: [value] }] }))).Volumes ?? [];
}

export function tagMap(v: Volume | undefined): Record<string, string> {
  return Object.fromEntries((v?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export async function nodes(): Promise<Node[]> {
  return (await kube.list<Node>(resources.Node)).items;
}

export function instanceOf(node: Node | undefined): string | undefined {
  return parseProviderId(node?.spec?.providerID)?.instanceId;
}

export function zoneOf(node: Node | undefined): string | undefined {
  return node?.metadata?.labels?.['topology.kubernetes.io/zone'];
}

/**
 * Stand-ins for what a kubelet and the driver's node plugin do when a node registers, until the
 * testbed's node simulator does them (see the package README, "testbed gaps"):
 * - kubelet annotates its Node `volumes.kubernetes.io/controller-managed-attach-detach: "true"`;
 *   without it the attach/detach controller never creates VolumeAttachments for the node;
 * - the node plugin's registration writes the CSINode entry (node ID = instance ID, zone topology,
 *   the attach limit). The simulator writes it when its CSI hook is wired; otherwise this does.
 */
export async function ensureNodeRegistration(): Promise<void> {
  for (const n of await nodes()) {
    const name = n.metadata?.name ?? '';
    if (n.metadata?.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach'] !== 'true') {
      await kube.patch(resources.Node, { name }, { metadata: { annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } } });
    }
    const csiNode = await kube.get<KubeObject & { spec?: { drivers?: { name: string }[] } }>(resources.CSINode, name);
    if (csiNode?.spec?.drivers?.some((d) => d.name === DRIVER_NAME)) continue;
    const driver = { name: DRIVER_NAME, nodeID: instanceOf(n), topologyKeys: ['topology.kubernetes.io/zone'], allocatable: { count: 26 } };
    if (!csiNode) {
      await kube.create(resources.CSINode, {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSINode',
        metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: n.metadata?.uid ?? '' }] },
        spec: { drivers: [driver] },
      } as KubeObject);
    } else {
      await kube.patch(resources.CSINode, { name }, [{ op: 'add', path: '/spec/drivers/-', value: driver }], { patchType: 'json' });
    }
  }
}

export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
  await kube.create(resources.Namespace, { metadata: { name } });
  return name;
}

export function storageClass(name: string, parameters: Record<string, string>, over: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: DRIVER_NAME, parameters, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', allowVolumeExpansion: true, ...over } as KubeObject;
}

export function claim(namespace: string, name: string, className: string, size: string): KubeObject {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: className, resources: { requests: { storage: size } } } } as KubeObject;
}

export function podWithClaim(namespace: string, name: string, claimName: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      containers: [{ name: 'nginx', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/usr/share/nginx/html' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
      terminationGracePeriodSeconds: 0,
      ...spec,
    },
  } as KubeObject;
}

export interface Event extends KubeObject {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { name?: string; kind?: string };
}

export async function eventsFor(namespace: string, name: string): Promise<Event[]> {
  return (await kube.list<Event>(resources.Event, { namespace, fieldSelector: `involvedObject.name=${name}` })).items;
}

/** The claim once it is Bound. */
export async function boundClaim(ns: string, name: string): Promise<PersistentVolumeClaim> {
  return waitFor(`claim ${ns}/${name} Bound`, async () => {
    const c = await kube.get<PersistentVolumeClaim>(resources.PersistentVolumeClaim, name, ns);
    return c?.status?.phase === 'Bound' ? c : undefined;
  });
}
