// The one helper for a bounded wait that is not a reconcile: a CSI call waiting for its device, a
// background drain waiting for evictions. A reconcile never waits in place — it returns
// `{ requeueAfter }` or throws `RetryAfterError`, and the work queue brings the key back with backoff.
// No imports, so the node halves can load it (`@kube-iaas/core/retry`) without the SDKs.

export interface PollOptions {
  /** Wait between attempts, in ms. */
  intervalMs: number;
  /** Give up once `now()` reaches this (ms, on the `now` clock). */
  deadline: number;
  /** The error thrown when the deadline passed without an answer. */
  onTimeout: () => Error;
  /** Runs after each attempt that had no answer, when another one will follow (progress Events, logs). */
  onWait?: () => void;
  now?: () => number;
}

/**
 * Calls `attempt` until it returns something other than undefined and returns that; between attempts
 * waits `intervalMs`. Errors of `attempt` propagate at once. At least one attempt is made.
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined> | T | undefined, opts: PollOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  for (;;) {
    const r = await attempt();
    if (r !== undefined) return r;
    if (now() >= opts.deadline) throw opts.onTimeout();
    opts.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs));
  }
}
