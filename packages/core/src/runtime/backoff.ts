/** Per-key exponential backoff with jitter. */
export interface BackoffOptions {
  /** Delay after the first failure, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /**
   * Relative jitter in [0, 1]: the delay is drawn uniformly from `exp·(1−jitter) … exp·(1+jitter)`
   * (then capped at maxMs), so keys that failed together do not retry together. Default 0.2.
   */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 };

/** The un-jittered delay before retry number `failures` (0 = first retry): baseMs·2^failures, capped. */
export function exponentialDelay(failures: number, opts: BackoffOptions): number {
  const n = Math.max(0, Math.min(failures, 62));
  return Math.min(opts.maxMs, opts.baseMs * 2 ** n);
}

/** The jittered delay before retry number `failures`; `random` returns [0, 1). */
export function backoffDelay(failures: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = exponentialDelay(failures, opts);
  const jitter = Math.max(0, Math.min(1, opts.jitter ?? DEFAULT_BACKOFF.jitter));
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.min(opts.maxMs, Math.round(exp * factor)));
}

/**
 * A token bucket that hands out reservations: `reserve()` takes one token and returns how long
 * the caller must wait for it (0 when a token was available). Tokens may go negative, which is
 * what spreads a burst of retries out over time at `ratePerSecond`.
 */
export class RetryTokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, burst: number, now: () => number = Date.now) {
    if (!(ratePerSecond > 0)) throw new RangeError(`token bucket rate must be > 0, got ${ratePerSecond}`);
    if (!(burst >= 1)) throw new RangeError(`token bucket burst must be >= 1, got ${burst}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  /** Takes a token; returns the wait in ms until it is really available. */
  reserve(): number {
    if (this.ratePerSecond === Infinity) return 0;
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens / this.ratePerSecond) * 1000);
  }

  /** Tokens available now (may be negative while reservations are outstanding). */
  available(): number {
    const elapsed = Math.max(0, this.#now() - this.#last);
    return Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
