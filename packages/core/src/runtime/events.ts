import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { RetryTokenBucket } from './backoff.ts';
import { isKubeNotFound, type KubeClient } from './client.ts';
import { runtimeMetrics } from './metrics.ts';
import { resources, type KubeObject, type ResourceType } from './types.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** `source.component` / `reportingComponent`, e.g. `kube-iaas-lb-operator`. */
  component: string;
  /** `reportingInstance`, default the host name (the pod name in a cluster). */
  instance?: string;
  /** New distinct events per object: burst, then one per `refillSeconds` (client-go: 25 / 300s). */
  burst?: number;
  refillSeconds?: number;
  /** A repeat within this window bumps `count` of the existing Event instead of creating one. */
  aggregateWindowMs?: number;
  /** Repeats are written back (count, lastTimestamp) at most this often per Event. */
  flushIntervalMs?: number;
  /** Distinct events remembered for aggregation. */
  cacheSize?: number;
  log?: Logger;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  written: number;
  first: string;
  last: string;
  lastMs: number;
  created: boolean;
  flushTimer: NodeJS.Timeout | undefined;
  body: Record<string, unknown>;
}

/**
 * Records core/v1 Events on any object (they show in `kubectl describe` and `kubectl events`).
 * Floods are contained the way client-go's recorder does it: a repeat of the same
 * (object, type, reason, message) updates `count`/`lastTimestamp` of the Event already written
 * (coalesced to one PATCH per flush interval), and each object gets a token bucket for new
 * distinct events. Recording never throws and never blocks the caller; failures are logged and
 * counted in `kube_iaas_events_total{outcome="failed"}`.
 */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #instance: string;
  readonly #burst: number;
  readonly #refill: number;
  readonly #window: number;
  readonly #flushMs: number;
  readonly #cacheSize: number;
  readonly #log: Logger | undefined;
  readonly #seen = new Map<string, Seen>();
  readonly #buckets = new Map<string, RetryTokenBucket>();
  readonly #pending = new Set<Promise<void>>();
  #seq = 0;

  constructor(client: KubeClient, opts: EventRecorderOptions) {
    this.#client = client;
    this.#component = opts.component;
    this.#instance = opts.instance ?? hostname();
    this.#burst = opts.burst ?? 25;
    this.#refill = opts.refillSeconds ?? 300;
    this.#window = opts.aggregateWindowMs ?? 10 * 60_000;
    this.#flushMs = opts.flushIntervalMs ?? 5_000;
    this.#cacheSize = opts.cacheSize ?? 4096;
    this.#log = opts.log;
  }

  normal(obj: KubeObject, reason: string, message: string, opts: { action?: string; type?: Pick<ResourceType, 'apiVersion' | 'kind'> } = {}): void {
    this.#track(this.record(obj, 'Normal', reason, message, opts));
  }

  warning(obj: KubeObject, reason: string, message: string, opts: { action?: string; type?: Pick<ResourceType, 'apiVersion' | 'kind'> } = {}): void {
    this.#track(this.record(obj, 'Warning', reason, message, opts));
  }

  /** Records an event; the promise resolves once it is written (or dropped) and never rejects. */
  async record(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    opts: { action?: string; type?: Pick<ResourceType, 'apiVersion' | 'kind'> } = {},
  ): Promise<void> {
    const md = obj.metadata;
    const apiVersion = obj.apiVersion ?? opts.type?.apiVersion;
    const kind = obj.kind ?? opts.type?.kind;
    if (!md?.name || !apiVersion || !kind) {
      this.#log?.warn({ reason }, 'event dropped: object without apiVersion/kind/name');
      runtimeMetrics.eventsTotal.inc({ type, outcome: 'dropped' });
      return;
    }
    const note = message.length > 1024 ? `${message.slice(0, 1021)}...` : message;
    const objId = md.uid ?? `${apiVersion}/${kind}/${md.namespace ?? ''}/${md.name}`;
    const key = `${objId}\u0000${type}\u0000${reason}\u0000${note}`;
    const nowMs = Date.now();
    const now = microTime(nowMs);
    const seen = this.#seen.get(key);
    if (seen && nowMs - seen.lastMs < this.#window) {
      seen.count++;
      seen.last = now;
      seen.lastMs = nowMs;
      this.#touch(key, seen);
      runtimeMetrics.eventsTotal.inc({ type, outcome: 'aggregated' });
      if (seen.created && !seen.flushTimer) {
        seen.flushTimer = setTimeout(() => {
          seen.flushTimer = undefined;
          this.#track(this.#flush(key, seen));
        }, this.#flushMs);
        seen.flushTimer.unref();
      }
      return;
    }
    let bucket = this.#buckets.get(objId);
    if (!bucket) {
      bucket = new RetryTokenBucket(1 / this.#refill, this.#burst);
      this.#buckets.set(objId, bucket);
      if (this.#buckets.size > this.#cacheSize) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    if (bucket.available() < 1) {
      runtimeMetrics.eventsTotal.inc({ type, outcome: 'dropped' });
      this.#log?.debug({ reason, object: md.name }, 'event dropped by the per-object spam filter');
      return;
    }
    bucket.reserve();
    const namespace = md.namespace || 'default';
    const name = `${md.name}.${(BigInt(nowMs) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}`;
    const body: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion,
        kind,
        name: md.name,
        ...(md.namespace ? { namespace: md.namespace } : {}),
        ...(md.uid ? { uid: md.uid } : {}),
        ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
      },
      reason,
      message: note,
      type,
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
      ...(opts.action ? { action: opts.action } : {}),
      firstTimestamp: rfc3339(nowMs),
      lastTimestamp: rfc3339(nowMs),
      eventTime: null,
      count: 1,
    };
    const entry: Seen = {
      name,
      namespace,
      count: 1,
      written: 0,
      first: now,
      last: now,
      lastMs: nowMs,
      created: false,
      flushTimer: undefined,
      body,
    };
    this.#seen.set(key, entry);
    this.#touch(key, entry);
    try {
      await this.#client.create(resources.Event, body as KubeObject);
      entry.created = true;
      entry.written = 1;
      runtimeMetrics.eventsTotal.inc({ type, outcome: 'created' });
      if (entry.count > entry.written && !entry.flushTimer) {
        entry.flushTimer = setTimeout(() => {
          entry.flushTimer = undefined;
          this.#track(this.#flush(key, entry));
        }, this.#flushMs);
        entry.flushTimer.unref();
      }
    } catch (err) {
      this.#seen.delete(key);
      runtimeMetrics.eventsTotal.inc({ type, outcome: 'failed' });
      this.#log?.warn({ err: (err as Error).message, reason }, 'could not record event');
    }
  }

  /** Writes aggregated counts now and waits for every write in progress. */
  async flush(): Promise<void> {
    for (;;) {
      for (const [key, seen] of this.#seen) {
        if (seen.flushTimer) {
          clearTimeout(seen.flushTimer);
          seen.flushTimer = undefined;
          this.#track(this.#flush(key, seen));
        }
      }
      // a create finishing now may schedule the write-back of repeats that came meanwhile
      if (this.#pending.size === 0) return;
      await Promise.all([...this.#pending]);
    }
  }

  async #flush(key: string, seen: Seen): Promise<void> {
    if (seen.count <= seen.written) return;
    const count = seen.count;
    const lastTimestamp = rfc3339(seen.lastMs);
    try {
      await this.#client.patch(
        resources.Event,
        { name: seen.name, namespace: seen.namespace },
        { count, lastTimestamp },
        { patchType: 'merge' },
      );
      seen.written = count;
    } catch (err) {
      if (isKubeNotFound(err)) {
        // the Event expired (the API server keeps them an hour): start a new one next time
        this.#seen.delete(key);
        return;
      }
      runtimeMetrics.eventsTotal.inc({ type: String(seen.body.type), outcome: 'failed' });
      this.#log?.warn({ err: (err as Error).message }, 'could not update event count');
    }
  }

  #touch(key: string, seen: Seen): void {
    // Map order is insertion order: re-insert to keep the most recent last, evict the oldest.
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    while (this.#seen.size > this.#cacheSize) {
      const oldest = this.#seen.keys().next().value as string;
      const s = this.#seen.get(oldest);
      if (s?.flushTimer) clearTimeout(s.flushTimer);
      this.#seen.delete(oldest);
    }
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
