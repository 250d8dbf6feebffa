import { AsyncLocalStorage } from 'node:async_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';
import { metricsRegistry } from '../metrics.ts';
import type { AwsErrorKind } from './errors.ts';
import type { AwsService, OperationClass } from './rate-limit.ts';

export type AwsCallOutcome = 'success' | AwsErrorKind;

/** One finished client call (all its retries included). */
export interface AwsCallRecord {
  service: AwsService;
  operation: string;
  class: OperationClass;
  outcome: AwsCallOutcome;
  /** AWS error code when the call failed. */
  code?: string;
  durationMs: number;
  attempts: number;
  /** Epoch ms when the call finished. */
  at: number;
}

export interface AwsCallCount {
  service: AwsService;
  operation: string;
  class: OperationClass;
  outcome: AwsCallOutcome;
  count: number;
}

export interface AwsCallFilter {
  service?: AwsService;
  operation?: string;
  class?: OperationClass;
  outcome?: AwsCallOutcome;
}

/**
 * An immutable snapshot of call counts. `since(earlier)` gives what happened in between, so a test or
 * benchmark can ask "how many mutating calls did this reconcile make": `after.since(before).mutate`.
 */
export class AwsCallStats {
  readonly counts: readonly AwsCallCount[];

  constructor(counts: readonly AwsCallCount[]) {
    this.counts = [...counts].filter((c) => c.count > 0).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  count(filter: AwsCallFilter = {}): number {
    let n = 0;
    for (const c of this.counts) {
      if (filter.service && c.service !== filter.service) continue;
      if (filter.operation && c.operation !== filter.operation) continue;
      if (filter.class && c.class !== filter.class) continue;
      if (filter.outcome && c.outcome !== filter.outcome) continue;
      n += c.count;
    }
    return n;
  }

  get total(): number {
    return this.count();
  }
  get describe(): number {
    return this.count({ class: 'describe' });
  }
  get mutate(): number {
    return this.count({ class: 'mutate' });
  }
  get failed(): number {
    return this.total - this.count({ outcome: 'success' });
  }

  /** Calls per `service:Operation` (all outcomes), e.g. `{ 'ec2:CreateVolume': 1 }`. */
  byOperation(filter: AwsCallFilter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.counts) {
      if (filter.service && c.service !== filter.service) continue;
      if (filter.class && c.class !== filter.class) continue;
      if (filter.outcome && c.outcome !== filter.outcome) continue;
      const k = `${c.service}:${c.operation}`;
      out[k] = (out[k] ?? 0) + c.count;
    }
    return out;
  }

  /** The calls made after `earlier` was taken. */
  since(earlier: AwsCallStats): AwsCallStats {
    const before = new Map(earlier.counts.map((c) => [keyOf(c), c.count]));
    return new AwsCallStats(this.counts.map((c) => ({ ...c, count: c.count - (before.get(keyOf(c)) ?? 0) })));
  }

  toJSON(): { total: number; describe: number; mutate: number; failed: number; byOperation: Record<string, number> } {
    return { total: this.total, describe: this.describe, mutate: this.mutate, failed: this.failed, byOperation: this.byOperation() };
  }
}

function keyOf(c: Omit<AwsCallCount, 'count'>): string {
  return `${c.service}:${c.operation}:${c.outcome}:${c.class}`;
}

/** Counts calls and keeps the most recent ones. */
export class AwsCallRecorder {
  private readonly counts = new Map<string, AwsCallCount>();
  private readonly recent: AwsCallRecord[] = [];
  private readonly logSize: number;

  constructor(opts: { logSize?: number } = {}) {
    this.logSize = opts.logSize ?? 1000;
  }

  record(r: AwsCallRecord): void {
    const k = keyOf(r);
    const c = this.counts.get(k);
    if (c) c.count += 1;
    else this.counts.set(k, { service: r.service, operation: r.operation, class: r.class, outcome: r.outcome, count: 1 });
    if (this.logSize > 0) {
      this.recent.push(r);
      if (this.recent.length > this.logSize) this.recent.splice(0, this.recent.length - this.logSize);
    }
  }

  snapshot(): AwsCallStats {
    return new AwsCallStats([...this.counts.values()].map((c) => ({ ...c })));
  }

  /** The most recent calls, oldest first. */
  log(): readonly AwsCallRecord[] {
    return [...this.recent];
  }

  reset(): void {
    this.counts.clear();
    this.recent.length = 0;
  }
}

const globalRecorder = new AwsCallRecorder();
const scopes = new AsyncLocalStorage<readonly AwsCallRecorder[]>();

/** Counts of every AWS call this process made through kube-iaas clients. */
export function awsCallStats(): AwsCallStats {
  return globalRecorder.snapshot();
}

/** The last 1000 calls this process made, oldest first. */
export function awsCallLog(): readonly AwsCallRecord[] {
  return globalRecorder.log();
}

export function resetAwsCallStats(): void {
  globalRecorder.reset();
}

/**
 * Runs `fn` and returns the AWS calls made *by it* (everything in its async context, nested scopes
 * included), even while other reconciles run concurrently in the same process.
 */
export async function measureAwsCalls<T>(fn: () => Promise<T>): Promise<{ result: T; stats: AwsCallStats; log: readonly AwsCallRecord[] }> {
  const recorder = new AwsCallRecorder({ logSize: 10_000 });
  const parent = scopes.getStore() ?? [];
  const result = await scopes.run([...parent, recorder], fn);
  return { result, stats: recorder.snapshot(), log: recorder.log() };
}

// --- Prometheus ---------------------------------------------------------------------------------

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export interface AwsMetrics {
  calls: Counter<'service' | 'operation' | 'outcome'>;
  duration: Histogram<'service' | 'operation'>;
  retries: Counter<'service' | 'operation'>;
  rateLimitWait: Histogram<'service' | 'class'>;
  refusals: Counter<'service' | 'operation' | 'reason'>;
}

let metrics: AwsMetrics | undefined;

/** The AWS collectors on the shared `metricsRegistry`, created on first use. */
export function awsMetrics(): AwsMetrics {
  if (metrics) return metrics;
  const registers = [metricsRegistry];
  metrics = {
    calls: getOrCreate(metricsRegistry, 'kube_iaas_aws_api_calls_total', () =>
      new Counter({ name: 'kube_iaas_aws_api_calls_total', help: 'AWS API calls by service, operation and outcome (success or the error class)', labelNames: ['service', 'operation', 'outcome'] as const, registers }),
    ),
    duration: getOrCreate(metricsRegistry, 'kube_iaas_aws_api_call_duration_seconds', () =>
      new Histogram({
        name: 'kube_iaas_aws_api_call_duration_seconds',
        help: 'AWS API call latency including SDK retries and client-side rate limiting',
        labelNames: ['service', 'operation'] as const,
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers,
      }),
    ),
    retries: getOrCreate(metricsRegistry, 'kube_iaas_aws_api_retries_total', () =>
      new Counter({ name: 'kube_iaas_aws_api_retries_total', help: 'AWS API attempts beyond the first, made by the SDK retry strategy', labelNames: ['service', 'operation'] as const, registers }),
    ),
    rateLimitWait: getOrCreate(metricsRegistry, 'kube_iaas_aws_rate_limit_wait_seconds', () =>
      new Histogram({
        name: 'kube_iaas_aws_rate_limit_wait_seconds',
        help: 'Time AWS API attempts waited for the client-side token bucket',
        labelNames: ['service', 'class'] as const,
        buckets: [0, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    ),
    refusals: getOrCreate(metricsRegistry, 'kube_iaas_aws_ownership_refusals_total', () =>
      new Counter({ name: 'kube_iaas_aws_ownership_refusals_total', help: 'Mutating AWS calls refused by the ownership guard', labelNames: ['service', 'operation', 'reason'] as const, registers }),
    ),
  };
  return metrics;
}

/** Records a finished call into the metrics, the process-wide stats, `extra` and any `measureAwsCalls` scopes. */
export function recordAwsCall(r: AwsCallRecord, extra?: AwsCallRecorder): void {
  const m = awsMetrics();
  m.calls.inc({ service: r.service, operation: r.operation, outcome: r.outcome });
  m.duration.observe({ service: r.service, operation: r.operation }, r.durationMs / 1000);
  if (r.attempts > 1) m.retries.inc({ service: r.service, operation: r.operation }, r.attempts - 1);
  globalRecorder.record(r);
  extra?.record(r);
  for (const s of scopes.getStore() ?? []) s.record(r);
}
