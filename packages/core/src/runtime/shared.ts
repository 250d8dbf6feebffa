import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import { Informer, type InformerOptions } from './informer.ts';
import type { HealthServer } from './server.ts';
import { resourcePath, type KubeObject, type ResourceType } from './types.ts';

type AnyInformer = Informer<KubeObject>;

/**
 * Informers shared by the operators of one process (packages/all-in-one): one list + watch and one
 * cache per resource and selector, however many operators ask for it. An informer is shared only
 * when both asked for the default transform (a custom one changes what the cache holds) and their
 * index names do not clash with different functions; otherwise the operator gets its own. Each
 * operator's handlers and indexes are added to the shared one; it stops when the last user leaves.
 */
export class SharedInformers {
  readonly #client: KubeClient;
  readonly #entries = new Map<string, { inf: AnyInformer; users: number; transform: unknown }[]>();

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** Distinct informers running (for the footprint bench and tests). */
  get size(): number {
    let n = 0;
    for (const list of this.#entries.values()) n += list.length;
    return n;
  }

  acquire<T extends KubeObject>(type: ResourceType, opts: InformerOptions<T>): Informer<T> {
    const key = [resourcePath(type, { namespace: type.namespaced ? opts.namespace : undefined }), opts.labelSelector ?? '', opts.fieldSelector ?? ''].join('|');
    const list = this.#entries.get(key) ?? [];
    this.#entries.set(key, list);
    const indexers = Object.entries(opts.indexers ?? {}) as [string, (o: KubeObject) => ReturnType<NonNullable<InformerOptions<KubeObject>['indexers']>[string]>][];
    const fits = (e: { inf: AnyInformer; transform: unknown }) =>
      e.transform === opts.transform &&
      indexers.every(([name, fn]) => {
        const have = e.inf.store.indexFunc(name);
        return have === undefined || have === fn;
      });
    const found = list.find(fits);
    if (found) {
      for (const [name, fn] of indexers) if (!found.inf.store.indexFunc(name)) found.inf.store.addIndex(name, fn);
      found.users++;
      return found.inf as unknown as Informer<T>;
    }
    const inf = new Informer<T>(this.#client, type, opts);
    list.push({ inf: inf as unknown as AnyInformer, users: 1, transform: opts.transform });
    return inf;
  }

  /** One user leaves; the informer stops when none is left. */
  async release(inf: Pick<Informer<KubeObject>, 'stop'>): Promise<void> {
    for (const list of this.#entries.values()) {
      const i = list.findIndex((e) => e.inf === inf);
      if (i < 0) continue;
      const e = list[i]!;
      if (--e.users > 0) return;
      list.splice(i, 1);
      await e.inf.stop();
      return;
    }
    await inf.stop();
  }
}

/**
 * What the operators of one process share: the kubeconfig and its client (one connection pool),
 * the /metrics /healthz /readyz server, and the informers. The process that makes it starts and
 * stops the server and closes the client; operators leave both alone.
 */
export interface SharedRuntime {
  kubeConfig: KubeConfig;
  client: KubeClient;
  health: HealthServer;
  informers: SharedInformers;
}

let ambient: SharedRuntime | undefined;

/**
 * Runs `make` with `shared` as the runtime every `Operator` constructed inside it joins (so the
 * operator packages need no option for it); see packages/all-in-one.
 */
export function withSharedRuntime<T>(shared: SharedRuntime, make: () => T): T {
  const before = ambient;
  ambient = shared;
  try {
    return make();
  } finally {
    ambient = before;
  }
}

/** The runtime set by `withSharedRuntime`, if an operator is being constructed inside one. */
export function ambientSharedRuntime(): SharedRuntime | undefined {
  return ambient;
}
