import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsRateLimiter, DEFAULT_RATE_LIMITS, TokenBucket, operationClass } from '../../src/aws/index.ts';

describe('operationClass', () => {
  it('Describe/Get/List are describe, everything else mutate', () => {
    expect(operationClass('DescribeVolumes')).toBe('describe');
    expect(operationClass('GetCallerIdentity')).toBe('describe');
    expect(operationClass('ListTagsForResource')).toBe('describe');
    expect(operationClass('CreateVolume')).toBe('mutate');
    expect(operationClass('AuthorizeSecurityGroupIngress')).toBe('mutate');
    expect(operationClass('AssumeRole')).toBe('mutate');
    expect(operationClass('SetDesiredCapacity')).toBe('mutate');
  });
});

describe('TokenBucket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets a burst through, then paces to the rate in FIFO order', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3 }, { now: () => Date.now() });
    const done: number[] = [];
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      void bucket.take().then((w) => {
        done.push(i);
        waits.push(w);
      });
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0, 1, 2]);
    expect(bucket.queued).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 1, 2, 3]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 1, 2, 3, 4]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeCloseTo(100, -1);
    expect(waits[5]).toBeCloseTo(300, -1);
  });

  it('refills up to the burst size only', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 5, burst: 2 }, { now: () => Date.now() });
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(bucket.available).toBeCloseTo(2);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('sustains the configured rate over time', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 20, burst: 1 }, { now: () => Date.now() });
    let n = 0;
    for (let i = 0; i < 100; i++) void bucket.take().then(() => n++);
    await vi.advanceTimersByTimeAsync(2000);
    // 1 at once + 20/s for 2 s
    expect(n).toBeGreaterThanOrEqual(40);
    expect(n).toBeLessThanOrEqual(41);
  });

  it('rejects nonsense specs', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow();
    expect(() => new TokenBucket({ ratePerSecond: 1, burst: 0 })).toThrow();
  });
});

describe('AwsRateLimiter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps separate buckets per service and class', async () => {
    const limiter = new AwsRateLimiter({ ec2: { mutate: { ratePerSecond: 1, burst: 1 } } }, { now: () => Date.now() });
    expect(await limiter.acquire('ec2', 'CreateVolume')).toBe(0);
    let second = -1;
    void limiter.acquire('ec2', 'AttachVolume').then((w) => (second = w));
    // describes and other services are not held up by EC2's mutate bucket
    expect(await limiter.acquire('ec2', 'DescribeVolumes')).toBe(0);
    expect(await limiter.acquire('elbv2', 'CreateLoadBalancer')).toBe(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(second).toBe(-1);
    await vi.advanceTimersByTimeAsync(1);
    expect(second).toBeCloseTo(1000, -1);
    expect(limiter.bucket('ec2', 'describe')?.burst).toBe(DEFAULT_RATE_LIMITS.ec2.describe.burst);
  });

  it('can turn a bucket off', async () => {
    const limiter = new AwsRateLimiter({ sts: { mutate: false } });
    expect(limiter.bucket('sts', 'mutate')).toBeUndefined();
    expect(await limiter.acquire('sts', 'AssumeRole')).toBe(0);
  });
});
