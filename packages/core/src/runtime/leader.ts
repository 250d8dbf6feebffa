import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { KubeApiError, isKubeAlreadyExists, isKubeConflict, type KubeClient } from './client.ts';
import { deepEqual } from './diff.ts';
import { microTime } from './events.ts';
import { runtimeMetrics } from './metrics.ts';
import { resourcePath, resources, type ObjectMeta } from './types.ts';

/**
 * A Lease as this elector writes it. Not client-node's `V1Lease`: that types acquireTime/renewTime as
 * `V1MicroTime` (a Date its own serializer formats), and this runtime sends JSON as is, so the times
 * are the microsecond RFC 3339 strings the API server expects.
 */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  /** Lease name, e.g. the operator's name. */
  name: string;
  /** This candidate's identity; default `<hostname>_<uuid>`. */
  identity?: string;
  /** How long a lease stays valid after its last observed renewal. Default 15s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before it gives up leadership. Default 10s. */
  renewDeadlineMs?: number;
  /** Interval between acquire attempts and between renewals. Default 2s. */
  retryPeriodMs?: number;
  /** Called once this process holds the lease: start reconciling. */
  onStartedLeading: () => void | Promise<void>;
  /** Called when the lease is lost (or released at stop): stop reconciling. */
  onStoppedLeading: () => void | Promise<void>;
  /** Called when the observed holder changes. */
  onNewLeader?: (identity: string) => void;
  log?: Logger;
}

export function defaultIdentity(): string {
  return `${process.env.POD_NAME ?? hostname()}_${randomUUID()}`;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a candidate takes the
 * lease when it is free (no holder, e.g. released) or when the holder has not renewed it for
 * `leaseDuration` as observed on this process's own clock (no trust in other clocks); the leader
 * renews every `retryPeriod` and gives up when it could not renew for `renewDeadline` or sees
 * another holder. Updates are compare-and-swap on resourceVersion. `stop()` releases the lease by
 * clearing `holderIdentity`, so a standby takes over on its next attempt instead of waiting out
 * the lease duration.
 */
export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly #o: LeaderElectionOptions;
  readonly #log: Logger | undefined;
  #observed: LeaseSpec | undefined;
  #observedAt = 0;
  #observedRv: string | undefined;
  #leader = false;
  #renewedFrom = 0;
  #holder: string | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#o = opts;
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new RangeError('leader election: lease duration must be greater than the renew deadline');
    }
    if (!(this.renewDeadlineMs > 1.2 * this.retryPeriodMs)) {
      throw new RangeError('leader election: renew deadline must be greater than 1.2 × the retry period');
    }
    if (this.leaseDurationMs < 1000) throw new RangeError('leader election: lease duration must be at least 1s');
    this.#log = opts.log?.child({ lease: `${opts.namespace}/${opts.name}`, identity: this.identity });
    runtimeMetrics.leaderIsLeader.set({ lease: opts.name }, 0);
  }

  get isLeader(): boolean {
    return this.#leader;
  }
  /**
   * Until when (epoch ms, this process's clock) no other candidate can have taken the lease: the start
   * of the last successful renew plus the renew deadline, after which this process gives up leading
   * by itself. 0 when not leading. For work that must never overlap with another leader's, not merely
   * be retried after it (a renew could have been delayed without this process noticing yet).
   */
  get leadingUntil(): number {
    return this.#leader ? this.#renewedFrom + this.renewDeadlineMs : 0;
  }
  /** The holder last observed on the lease (possibly this process). */
  get leader(): string | undefined {
    return this.#holder;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.#loop) return;
    this.#stopped = false;
    this.#loop = this.#run().catch((err: unknown) => {
      // #run handles its own errors; this is a last line so a bug cannot kill the process
      this.#log?.error({ err }, 'leader election loop crashed');
    });
  }

  /**
   * Stops campaigning. As leader, calls `onStoppedLeading` first (so reconciles finish), then
   * releases the lease unless `release` is false.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    if (this.#leader) {
      await this.#lose('stopping');
      if (opts.release ?? true) await this.release();
    }
  }

  /** Clears holderIdentity if this process still holds the lease. Resolves true when released. */
  async release(): Promise<boolean> {
    try {
      const lease = await this.#get();
      if (!lease?.spec || lease.spec.holderIdentity !== this.identity) return false;
      const now = microTime(Date.now());
      await this.#put({
        ...lease,
        spec: {
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          holderIdentity: null,
        },
      });
      this.#log?.info('released the lease');
      return true;
    } catch (err) {
      this.#log?.warn({ err: (err as Error).message }, 'could not release the lease');
      return false;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      // campaign
      while (!this.#stopped) {
        const attempt = Date.now();
        if ((await this.#tryAcquireOrRenew()) === 'held') {
          this.#renewedFrom = attempt;
          break;
        }
        await this.#sleep(this.retryPeriodMs * (1 + Math.random() * 0.2));
      }
      if (this.#stopped) return;
      this.#leader = true;
      runtimeMetrics.leaderIsLeader.set({ lease: this.#o.name }, 1);
      runtimeMetrics.leaderTransitions.inc({ lease: this.#o.name, event: 'acquired' });
      this.#log?.info('acquired the lease; leading');
      try {
        await this.#o.onStartedLeading();
      } catch (err) {
        this.#log?.error({ err }, 'onStartedLeading failed');
      }
      // renew
      let lastRenew = Date.now();
      let lostReason: string | undefined;
      while (!this.#stopped) {
        await this.#sleep(this.retryPeriodMs);
        if (this.#stopped) break;
        const attempt = Date.now();
        const r = await this.#tryAcquireOrRenew();
        if (r === 'held') {
          lastRenew = Date.now();
          this.#renewedFrom = attempt;
        } else if (r === 'taken') {
          lostReason = `lease taken by ${this.#holder ?? 'another holder'}`;
          break;
        } else if (Date.now() - lastRenew >= this.renewDeadlineMs) {
          lostReason = `could not renew for ${this.renewDeadlineMs}ms`;
          break;
        }
      }
      if (this.#stopped) return; // stop() handles the hand-over
      await this.#lose(lostReason ?? 'lost');
    }
  }

  async #lose(reason: string): Promise<void> {
    if (!this.#leader) return;
    this.#leader = false;
    runtimeMetrics.leaderIsLeader.set({ lease: this.#o.name }, 0);
    runtimeMetrics.leaderTransitions.inc({ lease: this.#o.name, event: 'lost' });
    this.#log?.warn({ reason }, 'stopped leading');
    try {
      await this.#o.onStoppedLeading();
    } catch (err) {
      this.#log?.error({ err }, 'onStoppedLeading failed');
    }
  }

  /** 'held': we hold the lease now; 'taken': someone else validly holds it; 'error': could not tell. */
  async #tryAcquireOrRenew(): Promise<'held' | 'taken' | 'error'> {
    const nowMs = Date.now();
    const now = microTime(nowMs);
    const leaseSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const lease = await this.#get();
      if (!lease) {
        const spec: LeaseSpec = {
          holderIdentity: this.identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        };
        const created = await this.#o.client.create<Lease>(resources.Lease, {
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec,
        });
        this.#observe(spec, created.metadata?.resourceVersion, nowMs);
        return 'held';
      }
      const spec = lease.spec ?? {};
      if (!deepEqual(spec, this.#observed) || lease.metadata?.resourceVersion !== this.#observedRv) {
        this.#observe(spec, lease.metadata?.resourceVersion, nowMs);
      }
      const holder = spec.holderIdentity || undefined;
      const mine = holder === this.identity;
      if (holder && !mine) {
        const validFor = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
        if (this.#leader || this.#observedAt + validFor > nowMs) return 'taken';
      }
      const next: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + (holder ? 1 : 0),
      };
      const updated = await this.#put({ ...lease, spec: next });
      this.#observe(next, updated.metadata?.resourceVersion, nowMs);
      return 'held';
    } catch (err) {
      if (isKubeConflict(err) || isKubeAlreadyExists(err)) return 'error'; // raced with another candidate; look again
      this.#log?.warn({ err: (err as Error).message }, 'lease request failed');
      return 'error';
    }
  }

  #observe(spec: LeaseSpec, rv: string | undefined, at: number): void {
    this.#observed = spec;
    this.#observedRv = rv;
    this.#observedAt = at;
    const holder = spec.holderIdentity || undefined;
    if (holder !== this.#holder) {
      this.#holder = holder;
      if (holder) {
        this.#log?.info({ leader: holder }, 'new leader observed');
        this.#o.onNewLeader?.(holder);
      }
    }
  }

  #get(): Promise<Lease | undefined> {
    return this.#o.client
      .request<Lease>('GET', resourcePath(resources.Lease, { namespace: this.#o.namespace, name: this.#o.name }), {
        timeoutMs: this.#requestTimeout(),
      })
      .catch((err: unknown) => {
        if (err instanceof KubeApiError && err.code === 404) return undefined;
        throw err;
      });
  }

  #put(lease: Lease): Promise<Lease> {
    return this.#o.client.request<Lease>(
      'PUT',
      resourcePath(resources.Lease, { namespace: this.#o.namespace, name: this.#o.name }),
      { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }, timeoutMs: this.#requestTimeout() },
    );
  }

  #requestTimeout(): number {
    return Math.max(1000, Math.min(this.renewDeadlineMs / 2, 10_000));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
