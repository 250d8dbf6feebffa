// The agent's Kubernetes source: this node's pods (field selector spec.nodeName, so a node's agent never
// holds the cluster's pods) and this node's EniPool (named after the Node). Loaded with a dynamic import
// only when the agent runs against a cluster: the file source and the plugin never load the client.
import type { NodeView, ViewEni } from './view.ts';
import type { ViewSource } from './sources.ts';

interface PodLike { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> } }
interface PoolLike {
  metadata?: { name?: string };
  status?: { enis?: ViewEni[]; conditions?: NodeView['conditions'] };
}

export interface KubeSourceOptions {
  nodeName: string;
  vpcCidrs: string[];
  /** Node's primary address; by default the primary ENI's (device index 0) from the pool. */
  primaryIp?: string;
}

/** Keeps what the agent reads of a pod: its name and annotations (a node may run 110 pods; the agent runs on every node). */
function slimPod<T extends PodLike>(p: T): T {
  const m = p.metadata ?? {};
  return { metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, annotations: m.annotations ?? {} } } as T;
}

export function viewOf(o: KubeSourceOptions, pods: PodLike[], pool: PoolLike | undefined): NodeView {
  const enis = pool?.status?.enis ?? [];
  return {
    nodeName: o.nodeName,
    primaryIp: o.primaryIp ?? enis.find((e) => e.deviceIndex === 0)?.primaryIp ?? '',
    vpcCidrs: o.vpcCidrs,
    enis,
    conditions: pool?.status?.conditions ?? [],
    pods: Object.fromEntries(pods.map((p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, p.metadata?.annotations ?? {}])),
  };
}

export async function kubeSource(o: KubeSourceOptions): Promise<ViewSource> {
  const [{ KubeClient, Informer, resources }, { KubeConfig }] = await Promise.all([import('@kube-iaas/core'), import('@kubernetes/client-node')]);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const client = new KubeClient(kc, { userAgent: 'kube-iaas-eni-agent' });
  type Obj = PodLike & { metadata: { name: string } };
  const pods = new Informer<Obj>(client, resources.Pod, { fieldSelector: `spec.nodeName=${o.nodeName}`, transform: slimPod, name: 'pods' });
  const pools = new Informer<Obj & PoolLike>(
    client,
    { apiVersion: 'network.kube-iaas.dev/v1alpha1', kind: 'EniPool', plural: 'enipools', namespaced: false },
    { fieldSelector: `metadata.name=${o.nodeName}`, name: 'enipools' },
  );
  let view: NodeView | undefined;
  const listeners: (() => void)[] = [];
  const rebuild = (): void => {
    view = viewOf(o, pods.list(), pools.list()[0]);
    for (const l of [...listeners]) l();
  };
  for (const inf of [pods, pools] as const) inf.on({ add: rebuild, update: rebuild, delete: rebuild });
  pods.start();
  pools.start();
  await Promise.all([pods.waitForSync(30_000), pools.waitForSync(30_000)]);
  rebuild();
  return {
    current: () => view,
    onChange: (cb) => {
      listeners.push(cb);
      return () => {
        const i = listeners.indexOf(cb);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    stop: () => void Promise.all([pods.stop(), pools.stop()]),
  };
}
