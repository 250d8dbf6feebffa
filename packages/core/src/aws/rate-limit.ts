/** The AWS services kube-iaas calls; also the `service` label of the AWS metrics. */
export type AwsService = 'ec2' | 'autoscaling' | 'elbv2' | 'sts' | 'kms';

/**
 * AWS budgets read and write calls separately (EC2's token buckets for non-mutating and mutating
 * actions), so the client-side limiter does too: `Describe*`, `Get*` and `List*` are `describe`,
 * everything else is `mutate`.
 */
export type OperationClass = 'describe' | 'mutate';

export function operationClass(operation: string): OperationClass {
  return /^(Describe|Get|List)/.test(operation) ? 'describe' : 'mutate';
}

export interface BucketSpec {
  /** Tokens added per second: the sustained call rate. */
  ratePerSecond: number;
  /** Bucket size: how many calls may go at once after a quiet period. */
  burst: number;
}

export type RateLimits = Record<AwsService, Record<OperationClass, BucketSpec>>;
/** Per-service, per-class overrides; `false` turns a bucket off. */
export type RateLimitOverrides = Partial<Record<AwsService, Partial<Record<OperationClass, BucketSpec | false>>>>;

/**
 * Defaults per process, deliberately below AWS's default account budgets so that several operators
 * and other tools in one account still fit. Tune per account with `rateLimits`.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  ec2: { describe: { ratePerSecond: 20, burst: 40 }, mutate: { ratePerSecond: 5, burst: 20 } },
  autoscaling: { describe: { ratePerSecond: 10, burst: 20 }, mutate: { ratePerSecond: 2, burst: 10 } },
  elbv2: { describe: { ratePerSecond: 10, burst: 20 }, mutate: { ratePerSecond: 5, burst: 10 } },
  sts: { describe: { ratePerSecond: 5, burst: 10 }, mutate: { ratePerSecond: 2, burst: 5 } },
  kms: { describe: { ratePerSecond: 10, burst: 20 }, mutate: { ratePerSecond: 2, burst: 5 } },
};

interface Waiter {
  resolve: (waitedMs: number) => void;
  since: number;
}

/**
 * A token bucket with a FIFO queue: `take()` resolves at once while tokens last, then in arrival
 * order as tokens refill, never faster than `ratePerSecond` on average.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(spec: BucketSpec, opts: { now?: () => number } = {}) {
    if (!(spec.ratePerSecond > 0) || !(spec.burst >= 1)) throw new Error(`token bucket needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(spec)}`);
    this.ratePerSecond = spec.ratePerSecond;
    this.burst = spec.burst;
    this.tokens = spec.burst;
    this.now = opts.now ?? (() => performance.now());
    this.last = this.now();
  }

  /** Tokens available now (fractional). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Callers waiting for a token. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Takes a token if one is there and nobody is queued. */
  tryTake(): boolean {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Waits for a token; resolves with how long it waited, in ms. */
  take(): Promise<number> {
    if (this.tryTake()) return Promise.resolve(0);
    return new Promise((resolve) => {
      this.waiters.push({ resolve, since: this.now() });
      this.schedule();
    });
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiters.length === 0) return;
    this.refill();
    const deficit = 1 - this.tokens;
    const waitMs = deficit <= 0 ? 0 : Math.ceil((deficit * 1000) / this.ratePerSecond);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }

  private drain(): void {
    this.refill();
    // A tiny epsilon absorbs float error from the ceil()ed timer.
    while (this.waiters.length > 0 && this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1);
      const w = this.waiters.shift()!;
      w.resolve(this.now() - w.since);
    }
    this.schedule();
  }
}

/** One bucket per service and operation class. */
export class AwsRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(overrides: RateLimitOverrides = {}, opts: { now?: () => number } = {}) {
    for (const service of Object.keys(DEFAULT_RATE_LIMITS) as AwsService[]) {
      for (const cls of ['describe', 'mutate'] as const) {
        const o = overrides[service]?.[cls];
        if (o === false) continue;
        this.buckets.set(`${service}:${cls}`, new TokenBucket(o ?? DEFAULT_RATE_LIMITS[service][cls], opts));
      }
    }
  }

  bucket(service: AwsService, cls: OperationClass): TokenBucket | undefined {
    return this.buckets.get(`${service}:${cls}`);
  }

  /** Waits for the bucket of this call's service and class; resolves with the wait in ms. */
  acquire(service: AwsService, operation: string): Promise<number> {
    const b = this.bucket(service, operationClass(operation));
    return b ? b.take() : Promise.resolve(0);
  }
}
