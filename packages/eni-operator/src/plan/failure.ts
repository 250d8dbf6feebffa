// What an AWS error during pool growth or shrinking means for the pool: the Synced reason users see,
// and when to look again. Terminal errors (a full subnet, an ENI or address limit) wait a minute
// rather than hammer AWS; throttling and transient errors go back to the queue's backoff.
export interface PoolFailure {
  reason: 'SubnetFull' | 'EniLimitReached' | 'AwsThrottled' | 'AwsError';
  /** Look again after this long; undefined: rethrow, so the queue backs off. */
  requeueAfterMs?: number;
}

export function poolFailure(e: { code: string; kind: string }): PoolFailure {
  const reason =
    e.code === 'InsufficientFreeAddressesInSubnet'
      ? 'SubnetFull'
      : e.kind === 'throttled' // before *LimitExceeded: RequestLimitExceeded is throttling
        ? 'AwsThrottled'
        : e.code.endsWith('LimitExceeded')
          ? 'EniLimitReached'
          : 'AwsError';
  return e.kind === 'terminal' ? { reason, requeueAfterMs: 60_000 } : { reason };
}
