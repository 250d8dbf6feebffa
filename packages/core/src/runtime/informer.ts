import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.ts';
import type { KubeClient } from './client.ts';
import { runtimeMetrics } from './metrics.ts';
import { defaultTransform } from './transforms.ts';
import { IndexedStore, type IndexFunc } from './store.ts';
import { keyOf, objectKey, resourcePath, type KubeList, type KubeObject, type ResourceType } from './types.ts';

export interface InformerOptions<T> {
  /** Watch one namespace only (default: all namespaces, or cluster-scoped objects). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Secondary indexes, e.g. `{ byNode: (pod) => pod.spec?.nodeName }`. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Page size of the initial list and of relists (default 500). */
  pageSize?: number;
  /**
   * Applied to every object before it enters the cache. The default (`defaultTransform`) drops
   * `metadata.managedFields` and kubectl's last-applied-configuration, which are most of an
   * object's size and nothing a reconciler reads; see transforms.ts for more.
   */
  transform?: (obj: T) => T;
  /** Name used in metrics and logs (default `<plural>.<group>`). */
  name?: string;
  /**
   * Server-side watch timeout; a watch is closed by the server after a random time between this
   * and twice this, and resumed from the last resourceVersion (default 300s, like client-go).
   */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff after a failed list/watch (default 500ms … 30s, jittered). */
  backoff?: { baseMs: number; maxMs: number };
  log?: Logger;
}

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T, old: T | undefined) => void;
  delete?: (obj: T) => void;
}

/** Watch requests with bookmarks, a server-side timeout and counting; never throws out of `watch`. */
class InformerWatch extends Watch {
  readonly #onStart: () => void;
  readonly #timeoutSeconds: number;
  readonly #transform: (obj: KubernetesObject) => KubernetesObject;

  constructor(
    kc: KubeConfig,
    timeoutSeconds: number,
    onStart: () => void,
    transform: (obj: KubernetesObject) => KubernetesObject,
  ) {
    super(kc);
    this.#onStart = onStart;
    this.#timeoutSeconds = timeoutSeconds;
    this.#transform = transform;
    // client-node aborts a watch after 30s without a byte. Bookmarks arrive about once a minute on
    // a quiet resource, so 30s would reconnect a quiet watch twice a minute; dead peers are still
    // noticed (a restarted API server closes the socket; a partition trips this timeout).
    // (`requestTimeoutMs` is private in client-node's types, set only by its constructor.)
    Reflect.set(this, 'requestTimeoutMs', 150_000);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.#onStart();
    const params = {
      ...queryParams,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(this.#timeoutSeconds * (1 + Math.random())),
    };
    const cb = (phase: string, obj: unknown, raw?: unknown): void => {
      const o = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.#transform(obj as KubernetesObject) : obj;
      callback(phase, o, raw);
    };
    try {
      return await super.watch(path, params, cb, done);
    } catch (err) {
      // e.g. credentials that cannot be loaded: report through `done` like any other failure
      // (ListWatch would otherwise leave a rejected promise nobody handles).
      done(err);
      return new AbortController();
    }
  }
}

/**
 * A shared informer on client-node 2.x's ListWatch: list (paginated) then watch from the list's
 * resourceVersion with bookmarks; relist when the server answers 410 Gone; after any other list or
 * watch failure it reconnects with jittered backoff and resumes from the last resourceVersion —
 * it never exits the process. Objects land in an `IndexedStore`; handlers see add / update (with
 * the previous object) / delete. `requests` counts what it asked of the API server.
 */
export class Informer<T extends KubeObject> {
  readonly type: ResourceType;
  readonly name: string;
  readonly store: IndexedStore<T>;
  readonly requests = { list: 0, watch: 0 };

  readonly #opts: InformerOptions<T>;
  readonly #client: KubeClient;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #handlers = new Set<InformerHandlers<T>>();
  readonly #syncWaiters: (() => void)[] = [];
  readonly #log: Logger | undefined;
  readonly #transform: (obj: T) => T;
  #synced = false;
  #started = false;
  #stopped = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #listsDone = 0;
  #disconnectedAt: number | undefined;
  #listsAtDisconnect = 0;

  constructor(client: KubeClient, type: ResourceType, opts: InformerOptions<T> = {}) {
    this.type = type;
    this.#client = client;
    this.#opts = opts;
    this.#log = opts.log;
    const group = type.apiVersion.includes('/') ? type.apiVersion.split('/')[0] : 'core';
    this.name = opts.name ?? `${type.plural}.${group}`;
    this.store = new IndexedStore<T>(opts.indexers ?? {});
    this.#transform = opts.transform ?? defaultTransform;
    const path = resourcePath(type, { namespace: type.namespaced ? opts.namespace : undefined });
    const watch = new InformerWatch(
      client.kubeConfig,
      opts.watchTimeoutSeconds ?? 300,
      () => this.#onWatchStart(),
      (o) => this.#transform(o as T) as KubernetesObject,
    );
    this.#lw = new ListWatch<KubernetesObject>(
      path,
      watch,
      () => this.#list(),
      false,
      opts.labelSelector,
      opts.fieldSelector,
    );
    this.#lw.on('add', (o) => this.#onAdd(o as T));
    this.#lw.on('update', (o) => this.#onUpdate(o as T));
    this.#lw.on('delete', (o) => this.#onDelete(o as T));
    this.#lw.on('error', (err) => this.#onError(err));
    runtimeMetrics.informerSynced.set({ resource: this.name }, 0);
  }

  /** True once the first list has been applied to the store. */
  get hasSynced(): boolean {
    return this.#synced;
  }

  /** Registers handlers; returns a function that removes them. */
  on(handlers: InformerHandlers<T>): () => void {
    this.#handlers.add(handlers);
    return () => this.#handlers.delete(handlers);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }
  getByName(name: string, namespace?: string): T | undefined {
    return this.store.get(keyOf(namespace, name));
  }
  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }
  keys(): string[] {
    return this.store.keys();
  }
  byIndex(index: string, value: string): T[] {
    return this.store.byIndex(index, value);
  }

  /** Starts list + watch in the background; use `waitForSync` to wait for the first list. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    this.#run();
  }

  /** Resolves true once synced, false on timeout or stop. */
  waitForSync(timeoutMs = Infinity): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const w = (): void => {
        if (timer) clearTimeout(timer);
        resolve(this.#synced);
      };
      this.#syncWaiters.push(w);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          const i = this.#syncWaiters.indexOf(w);
          if (i >= 0) this.#syncWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#started = false;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#lw.stop();
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #run(): void {
    if (this.#stopped) return;
    this.#lw.start().catch((err: unknown) => this.#onError(err));
  }

  async #list(): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    let listKind: string | undefined;
    if (this.#listsDone > 0) runtimeMetrics.informerRelists.inc({ resource: this.name });
    do {
      this.requests.list++;
      runtimeMetrics.informerRequests.inc({ resource: this.name, verb: 'list' });
      const page = await this.#client.list<T>(this.type, {
        namespace: this.#opts.namespace,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
        limit: this.#opts.pageSize ?? 500,
        continue: cont,
      });
      listKind ??= page.kind;
      // list items of built-in kinds come without apiVersion/kind (watch events carry them); the
      // kind is known from the type or, for types registered by plural only, from `<Kind>List`
      const kind = this.type.kind || (listKind?.endsWith('List') ? listKind.slice(0, -4) : undefined);
      for (const item of page.items ?? []) {
        item.apiVersion ??= this.type.apiVersion;
        if (!item.kind && kind) item.kind = kind;
        items.push(this.#transform(item));
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    this.#listsDone++;
    this.#failures = 0;
    return { apiVersion: this.type.apiVersion, kind: listKind, metadata: { resourceVersion }, items };
  }

  #onWatchStart(): void {
    this.requests.watch++;
    runtimeMetrics.informerRequests.inc({ resource: this.name, verb: 'watch' });
    if (this.#disconnectedAt !== undefined) {
      this.#log?.info(
        {
          resource: this.name,
          disconnectedMs: Date.now() - this.#disconnectedAt,
          relisted: this.#listsDone > this.#listsAtDisconnect,
        },
        'list/watch re-established',
      );
      this.#disconnectedAt = undefined;
    }
    // ListWatch starts a watch only after a list has been applied to the cache (or when resuming
    // from a resourceVersion, which also means a list was applied before).
    if (!this.#synced && this.#listsDone > 0) {
      this.#synced = true;
      runtimeMetrics.informerSynced.set({ resource: this.name }, 1);
      this.#log?.info({ resource: this.name, objects: this.store.size }, 'informer synced');
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  #onError(err: unknown): void {
    if (this.#stopped) return;
    runtimeMetrics.informerErrors.inc({ resource: this.name });
    if (this.#disconnectedAt === undefined) {
      this.#disconnectedAt = Date.now();
      this.#listsAtDisconnect = this.#listsDone;
    }
    const delay = backoffDelay(this.#failures++, { baseMs: 500, maxMs: 30_000, ...this.#opts.backoff, jitter: 0.2 });
    this.#log?.warn(
      { resource: this.name, err: (err as Error)?.message ?? String(err), retryInMs: delay },
      'list/watch failed; reconnecting',
    );
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#run();
    }, delay);
  }

  #onAdd(obj: T): void {
    this.store.upsert(obj);
    this.#failures = 0;
    runtimeMetrics.informerObjects.set({ resource: this.name }, this.store.size);
    for (const h of this.#handlers) this.#safe(() => h.add?.(obj));
  }

  #onUpdate(obj: T): void {
    const old = this.store.upsert(obj);
    this.#failures = 0;
    for (const h of this.#handlers) this.#safe(() => h.update?.(obj, old));
  }

  #onDelete(obj: T): void {
    const old = this.store.delete(objectKey(obj));
    runtimeMetrics.informerObjects.set({ resource: this.name }, this.store.size);
    const last = obj.metadata ? obj : (old ?? obj);
    for (const h of this.#handlers) this.#safe(() => h.delete?.(last));
  }

  /** A throwing handler must not break the watch stream (client-node would swallow it mid-batch). */
  #safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log?.error({ resource: this.name, err }, 'informer handler threw');
    }
  }
}
