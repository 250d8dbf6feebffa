import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createLogger } from '../log.ts';
import { metricsRegistry } from '../metrics.ts';
import { KubeClient } from './client.ts';
import {
  checkRuntimeConfig,
  parseConfig,
  runtimeFlags,
  type ConfigOf,
  type FlagSpecs,
  type RuntimeConfig,
} from './config.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { EventRecorder } from './events.ts';
import { addFinalizer, removeFinalizer, setFinalizers } from './finalizers.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { LeaderElector } from './leader.ts';
import { ResourceMetaImpl, type ResourceEvent, type ResourceMeta } from './legacy.ts';
import { HealthServer } from './server.ts';
import { eventsFromInformer, finalizerStep, metaObject, typeOfMeta } from './k8s-operator-compat.ts';
import { ambientSharedRuntime, type SharedRuntime } from './shared.ts';
import { StatusWriter } from './status.ts';
import { resourcePath, type KubeObject, type ResourceType } from './types.ts';


export interface OperatorOptions<F extends FlagSpecs> {
  /** Operator name: logger name, Lease name, Event source, e.g. `lb-operator`. */
  name: string;
  /** Operator-specific flags, merged with `runtimeFlags`. */
  flags?: F;
  /** Default: process.argv.slice(2). */
  argv?: readonly string[];
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Extra cross-flag checks (return problems). */
  check?: (cfg: OperatorConfig<F>) => string[];
  /** Use this kubeconfig instead of --kubeconfig / the default chain. */
  kubeConfig?: KubeConfig;
  logger?: Logger;
  /**
   * Join a runtime shared with other operators of this process (client, health server, informers;
   * see shared.ts). Default: the one `withSharedRuntime` set, else this operator has its own.
   */
  shared?: SharedRuntime;
}

/** What the operator does with each of its informers, whatever their object type. */
type AnyInformer = Pick<Informer<KubeObject>, 'name' | 'type' | 'hasSynced' | 'requests' | 'start' | 'stop' | 'waitForSync'>;

/** The parsed flags: the runtime's and the operator's own (kept apart so the runtime part reads as `RuntimeConfig`). */
export type OperatorConfig<F extends FlagSpecs> = RuntimeConfig & ConfigOf<F>;

function parseOperatorConfig<F extends FlagSpecs>(opts: OperatorOptions<F>): OperatorConfig<F> {
  const specs: FlagSpecs = { ...runtimeFlags, ...(opts.flags ?? {}) };
  for (const k of Object.keys(opts.flags ?? {})) {
    if (k in runtimeFlags) throw new Error(`operator flag --${k} clashes with a runtime flag`);
  }
  // one parse over both sets (one --help, one list of problems), typed per set: `FlagSpecs` loses the
  // literal flag types that `ConfigOf` needs, and the two sets are what the flags were built from
  const typed = (c: ConfigOf<FlagSpecs>): OperatorConfig<F> => c as OperatorConfig<F>;
  const config = parseConfig(specs, opts.argv ?? process.argv.slice(2), opts.env ?? process.env, {
    program: opts.name,
    check: (c) => [...checkRuntimeConfig(typed(c)), ...(opts.check?.(typed(c)) ?? [])],
  });
  return typed(config);
}

/**
 * The base class of kube-iaas operators. It keeps @dot-i/k8s-operator's programming model —
 * subclass, register watches in `init()`, use `watchResource`, `handleResourceFinalizer`,
 * `setResourceFinalizers`, `patchResourceStatus` — and replaces what does not hold up under
 * @kubernetes/client-node 2.x:
 *
 * | 1.3.9 defect | here |
 * | --- | --- |
 * | `getCustomResourceApiUri` reads `k8sApi.basePath` (gone in 2.x) → `undefined/apis/...` | built from the kubeconfig's server |
 * | finalizer/status helpers use those URLs through gaxios and swallow errors | `KubeClient` (client-node 2.x transport), JSON patch + resourceVersion, errors propagate |
 * | `watchResource` restarts without resourceVersion and calls `process.exit(1)` on errors | informer: list + watch from resourceVersion, relist on 410, reconnect with backoff, never exits |
 * | one sequential event queue for the whole operator | keyed work queue per watch/controller: N workers, per-key ordering and backoff |
 *
 * New code should prefer `informer()` + `controller()` (level-triggered `reconcile(key)`).
 * Lifecycle: `start()` serves /metrics /healthz /readyz, runs `init()`, starts informers on every
 * replica (warm standby), and runs controllers only while holding the leader Lease; `stop()` stops
 * taking work, waits for reconciles in flight (--shutdown-timeout), releases the Lease, stops the
 * informers and closes the server. `runOperator()` wires SIGTERM/SIGINT to `stop()`.
 */
export abstract class Operator<F extends FlagSpecs = Record<never, never>> {
  readonly operatorName: string;
  /** From `kubeConfig`, else --kubeconfig, else client-node's default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
  protected kubeConfig: KubeConfig;
  readonly config: OperatorConfig<F>;
  readonly log: Logger;
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly statusWriter: StatusWriter;
  readonly health: HealthServer;

  readonly #informers: AnyInformer[] = [];
  readonly #controllers: Controller[] = [];
  readonly #typesById = new Map<string, ResourceType>();
  #elector: LeaderElector | undefined;
  #phase: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  #stopPromise: Promise<void> | undefined;
  #controllersWanted = false;
  readonly #shared: SharedRuntime | undefined;

  constructor(opts: OperatorOptions<F>) {
    const config = parseOperatorConfig(opts);
    const log = opts.logger ?? createLogger(opts.name, config.logLevel);
    this.operatorName = opts.name;
    this.config = config;
    this.log = log;
    const rc = this.runtimeConfig;
    const shared = opts.shared ?? ambientSharedRuntime();
    this.#shared = shared;
    if (shared) {
      this.kubeConfig = shared.kubeConfig;
    } else if (opts.kubeConfig) {
      this.kubeConfig = opts.kubeConfig;
    } else {
      const kc = new KubeConfig();
      if (rc.kubeconfig) kc.loadFromFile(rc.kubeconfig);
      else kc.loadFromDefault();
      this.kubeConfig = kc;
    }
    this.client = shared?.client ?? new KubeClient(this.kubeConfig, { userAgent: `kube-iaas/${opts.name}` });
    this.events = new EventRecorder(this.client, { component: `kube-iaas-${opts.name}`, log });
    this.statusWriter = new StatusWriter(this.client, log);
    this.health = shared?.health ?? new HealthServer({ bindAddress: rc.metricsBindAddress, registry: metricsRegistry });
    // one server for several operators: each one's checks carry its name
    const check = (name: string) => (shared ? `${opts.name}/${name}` : name);
    this.health.addReadinessCheck(check('shutdown'), () => (this.#phase === 'stopping' || this.#phase === 'stopped' ? 'shutting down' : undefined));
    this.health.addReadinessCheck(check('informers'), () => {
      const waiting = this.#informers.filter((i) => !i.hasSynced).map((i) => i.name);
      return waiting.length ? `waiting for the first list of ${waiting.join(', ')}` : undefined;
    });
    this.health.addReadinessCheck(check('controllers'), () => {
      if (this.#phase !== 'running') return `operator ${this.#phase}`;
      if (rc.leaderElect && !this.#elector?.isLeader) return undefined; // a standby is ready
      const idle = this.#controllers.filter((c) => !c.running).map((c) => c.name);
      return idle.length ? `workers not running for ${idle.join(', ')}` : undefined;
    });
  }

  /** The runtime part of the configuration. */
  get runtimeConfig(): RuntimeConfig {
    return this.config;
  }

  /** True when this replica runs reconcilers (holds the Lease, or leader election is off). */
  get isLeader(): boolean {
    return this.runtimeConfig.leaderElect ? (this.#elector?.isLeader ?? false) : this.#phase === 'running';
  }

  /**
   * True while this replica is the only one running reconcilers: leader election is on and the lease
   * is surely still ours (see LeaderElector.leadingUntil). Without leader election any number of
   * replicas may run, so this is false.
   */
  get soleLeader(): boolean {
    return this.runtimeConfig.leaderElect && Date.now() < (this.#elector?.leadingUntil ?? 0);
  }

  get leaderElector(): LeaderElector | undefined {
    return this.#elector;
  }

  get informers(): readonly AnyInformer[] {
    return this.#informers;
  }

  get controllers(): readonly Controller[] {
    return this.#controllers;
  }

  /** Kube API requests made by all informers (list pages + watch starts). */
  informerRequests(): { list: number; watch: number } {
    let list = 0;
    let watch = 0;
    for (const i of this.#informers) {
      list += i.requests.list;
      watch += i.requests.watch;
    }
    return { list, watch };
  }

  /** Registers informers and controllers (or legacy `watchResource` calls); run by `start()`. */
  protected abstract init(): Promise<void>;

  // ---------------------------------------------------------------- new-style API

  /**
   * A cache of `type` objects (namespaced types default to --namespace). Started by `start()` on
   * every replica; if called after start it starts at once.
   */
  protected informer<T extends KubeObject>(type: ResourceType, opts: InformerOptions<T> = {}): Informer<T> {
    const ns = opts.namespace ?? (type.namespaced && this.runtimeConfig.namespace ? this.runtimeConfig.namespace : undefined);
    const full = { log: this.log, ...opts, namespace: ns };
    const inf = this.#shared ? this.#shared.informers.acquire<T>(type, full) : new Informer<T>(this.client, type, full);
    this.#informers.push(inf);
    this.#typesById.set(`${type.plural}.${type.apiVersion}`, type);
    if (this.#phase === 'running' || this.#phase === 'starting') inf.start();
    return inf;
  }

  /** A controller whose workers run only on the leader; defaults come from the runtime flags. */
  protected controller(opts: ControllerOptions): Controller {
    const rc = this.runtimeConfig;
    const c = new Controller({
      workers: rc.workers,
      resyncPeriodMs: rc.resyncPeriod,
      backoff: { baseMs: rc.backoffBase, maxMs: rc.backoffMax },
      rateLimit: { qps: rc.retryQps, burst: rc.retryBurst },
      log: this.log,
      ...opts,
    });
    this.#controllers.push(c);
    if (this.#controllersWanted) void this.#startControllers();
    return c;
  }

  /** Adds a finalizer (JSON patch guarded by resourceVersion); errors propagate. */
  protected addFinalizer<T extends KubeObject>(type: ResourceType, obj: T, finalizer: string): Promise<T> {
    return addFinalizer(this.client, type, obj, finalizer);
  }

  /** Removes a finalizer; resolves undefined when the object is gone. Errors propagate. */
  protected removeFinalizer<T extends KubeObject>(type: ResourceType, obj: T, finalizer: string): Promise<T | undefined> {
    return removeFinalizer(this.client, type, obj, finalizer);
  }

  // ---------------------------------------------------------------- @dot-i/k8s-operator API, fixed

  /** Absolute URL of a resource collection, from the kubeconfig's server (not `k8sApi.basePath`). */
  protected getCustomResourceApiUri(group: string, version: string, plural: string, namespace?: string): string {
    const apiVersion = group ? `${group}/${version}` : version;
    return this.client.server + resourcePath({ apiVersion, plural }, { namespace });
  }

  /**
   * Informer-backed replacement of the base `watchResource`: events are delivered per object key
   * through a keyed queue (different objects in parallel, one object in order, the latest state
   * only), failures of `onEvent` are retried with backoff, and nothing ever exits the process.
   * Runs `onEvent` only on the leader.
   */
  protected async watchResource(
    group: string,
    version: string,
    plural: string,
    onEvent: (event: ResourceEvent) => Promise<void>,
    namespace?: string,
  ): Promise<void> {
    const apiVersion = group ? `${group}/${version}` : version;
    const id = `${plural}.${apiVersion}`;
    const type: ResourceType = { apiVersion, kind: '', plural, namespaced: true };
    this.#typesById.set(id, type);
    const inf = this.informer<KubeObject>(type, { namespace, name: id });
    this.controller({ name: `watch:${id}`, reconcile: eventsFromInformer(inf, plural, onEvent) }).watch(inf);
    this.log.info({ resource: id }, 'watching resource');
  }

  /**
   * Same contract as the base: adds the finalizer to a live object, or on a deleted object runs
   * `deleteAction` and removes the finalizer. Returns true when the event needs no further
   * processing. Unlike the base, failures (including a 409 from a stale object) propagate so the
   * event is retried, and `event.object` is not mutated.
   */
  protected async handleResourceFinalizer(
    event: ResourceEvent,
    finalizer: string,
    deleteAction: (event: ResourceEvent) => Promise<void>,
  ): Promise<boolean> {
    return finalizerStep(this.client, this.#typeOf(event.meta), event, finalizer, deleteAction);
  }

  /** Sets the finalizers (JSON patch guarded by `meta.resourceVersion`); errors propagate. */
  protected async setResourceFinalizers(meta: ResourceMeta, finalizers: string[]): Promise<void> {
    await setFinalizers(this.client, this.#typeOf(meta), metaObject(meta), finalizers);
  }

  /** PUT of the status subresource (guarded by `meta.resourceVersion`); errors propagate. */
  protected async setResourceStatus(meta: ResourceMeta, status: unknown): Promise<ResourceMeta | null> {
    const type = this.#typeOf(meta);
    const res = await this.client.replace(type, { ...metaObject(meta), status } as KubeObject, { subresource: 'status' });
    return ResourceMetaImpl.createWithId(meta.id, res as never);
  }

  /** JSON merge patch of the status subresource; errors propagate. */
  protected async patchResourceStatus(meta: ResourceMeta, status: unknown): Promise<ResourceMeta | null> {
    const type = this.#typeOf(meta);
    const res = await this.client.patch(type, { name: meta.name, namespace: meta.namespace }, { status }, { subresource: 'status' });
    return ResourceMetaImpl.createWithId(meta.id, res as never);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Serves the health endpoint, runs `init()`, starts informers, then either campaigns for the
   * Lease (--leader-elect) or starts the controllers. Resolves once everything is wired; caches
   * fill in the background (see `/readyz`).
   */
  async start(): Promise<void> {
    if (this.#phase !== 'new') throw new Error(`operator already ${this.#phase}`);
    this.#phase = 'starting';
    const rc = this.runtimeConfig;
    await this.health.start();
    await this.init();
    for (const inf of this.#informers) inf.start();
    this.#phase = 'running';
    if (rc.leaderElect) {
      this.#elector = new LeaderElector({
        client: this.client,
        namespace: rc.leaderElectNamespace,
        name: rc.leaderElectId || this.operatorName,
        ...(rc.leaderElectIdentity ? { identity: rc.leaderElectIdentity } : {}),
        leaseDurationMs: rc.leaderElectLeaseDuration,
        renewDeadlineMs: rc.leaderElectRenewDeadline,
        retryPeriodMs: rc.leaderElectRetryPeriod,
        log: this.log,
        onStartedLeading: () => {
          // must not block: the elector renews the lease only after this returns
          void this.#startControllers();
        },
        onStoppedLeading: () => this.#stopControllers(),
      });
      this.#elector.start();
    } else {
      void this.#startControllers();
    }
    const a = this.health.address;
    this.log.info(
      {
        metrics: a ? `${a.address}:${a.port}` : 'disabled',
        leaderElect: rc.leaderElect,
        identity: this.#elector?.identity,
        informers: this.#informers.map((i) => i.name),
        controllers: this.#controllers.map((c) => c.name),
      },
      'operator started',
    );
  }

  /**
   * Graceful stop: stop taking work, wait for reconciles in flight (up to --shutdown-timeout),
   * release the Lease, stop the informers, flush Events, close the server. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    const prev = this.#phase;
    this.#phase = 'stopping';
    this.log.info('stopping: no new work; waiting for reconciles in flight');
    if (prev !== 'new') {
      // drain first while the elector keeps renewing, so no successor starts while our
      // reconciles are still running; then hand the lease over
      await this.#stopControllers();
      if (this.#elector) await this.#elector.stop({ release: true });
      await Promise.all(this.#informers.map((i) => (this.#shared ? this.#shared.informers.release(i) : i.stop())));
      await Promise.race([this.events.flush(), sleep(2_000)]);
    }
    if (!this.#shared) {
      await this.health.stop();
      await this.client.close();
    }
    this.#phase = 'stopped';
    this.log.info('stopped');
  }

  async #startControllers(): Promise<void> {
    this.#controllersWanted = true;
    const synced = await Promise.all(this.#informers.map((i) => i.waitForSync()));
    if (!this.#controllersWanted || this.#phase !== 'running' || synced.includes(false)) return;
    for (const c of this.#controllers) c.start();
  }

  async #stopControllers(): Promise<void> {
    this.#controllersWanted = false;
    const timeout = this.runtimeConfig.shutdownTimeout;
    const results = await Promise.all(this.#controllers.map((c) => c.stop(timeout)));
    if (results.includes(false)) this.log.warn({ timeoutMs: timeout }, 'reconciles still running after the shutdown timeout');
  }

  #typeOf(meta: ResourceMeta): ResourceType {
    return this.#typesById.get(meta.id) ?? typeOfMeta(meta);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
