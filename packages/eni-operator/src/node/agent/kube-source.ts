// The agent's Kubernetes source: this node's pods (field selector spec.nodeName, so a node's agent never
// holds the cluster's pods) and this node's EniPool (named after the Node), with kube-watch.ts. Loaded with a dynamic import
// only when the agent runs against a cluster.
import { listWatch, type ApiConn } from './kube-watch.ts';
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

export async function kubeSource(o: KubeSourceOptions, conn: ApiConn): Promise<ViewSource> {
  let view: NodeView | undefined;
  const listeners: (() => void)[] = [];
  let ready = false;
  const rebuild = (): void => {
    if (!ready) return;
    view = viewOf(o, [...pods.items.values()], [...pools.items.values()][0]);
    for (const l of [...listeners]) l();
  };
  const pods = listWatch<PodLike>(conn, '/api/v1/pods', `spec.nodeName=${o.nodeName}`, slimPod, rebuild);
  const pools = listWatch<PoolLike & PodLike>(conn, '/apis/network.kube-iaas.dev/v1alpha1/enipools', `metadata.name=${o.nodeName}`, (p) => p, rebuild);
  // Serving before both lists arrived would answer "no grant" for pods that have one; the plugin's wait covers this.
  await Promise.all([pods.synced, pools.synced]);
  ready = true;
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
    stop: () => {
      pods.stop();
      pools.stop();
    },
  };
}
