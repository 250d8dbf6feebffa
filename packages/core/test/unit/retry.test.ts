import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/runtime/retry.ts';

describe('pollUntil', () => {
  it('returns the first answer; waits intervalMs between attempts and reports each wait', async () => {
    let calls = 0;
    let waits = 0;
    const t0 = performance.now();
    const r = await pollUntil(() => (++calls === 3 ? 'found' : undefined), { intervalMs: 20, deadline: Date.now() + 10_000, onTimeout: () => new Error('late'), onWait: () => waits++ });
    expect(r).toBe('found');
    expect(calls).toBe(3);
    expect(waits).toBe(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
  });

  it('throws onTimeout() once the deadline passed, after one last attempt; onWait is not called for it', async () => {
    let clock = 0;
    let calls = 0;
    let waits = 0;
    const err = await pollUntil(
      async () => {
        calls++;
        clock += 100;
        return undefined;
      },
      { intervalMs: 1, deadline: 250, now: () => clock, onTimeout: () => new Error('no device'), onWait: () => waits++ },
    ).catch((e: unknown) => e);
    expect(err).toEqual(new Error('no device'));
    expect(calls).toBe(3);
    expect(waits).toBe(2);
  });

  it('an attempt that throws stops the wait with that error; a falsy answer other than undefined counts', async () => {
    await expect(pollUntil(() => Promise.reject(new Error('boom')), { intervalMs: 1, deadline: Date.now() + 1000, onTimeout: () => new Error('late') })).rejects.toThrow('boom');
    expect(await pollUntil(() => 0, { intervalMs: 1, deadline: 0, onTimeout: () => new Error('late') })).toBe(0);
  });
});
