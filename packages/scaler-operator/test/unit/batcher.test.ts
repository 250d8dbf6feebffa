import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingBatcher } from '../../src/controllers/batcher.ts';

describe('pending-pod batcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('closes 1 s after the last new pod', () => {
    const fire = vi.fn();
    const b = new PendingBatcher({ idleMs: 1000, maxMs: 10_000, fire });
    b.add('a');
    vi.advanceTimersByTime(900);
    b.add('b');
    vi.advanceTimersByTime(900);
    expect(fire).not.toHaveBeenCalled();
    expect(b.open).toBe(true);
    vi.advanceTimersByTime(100);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(b.open).toBe(false);
  });

  it('closes after 10 s at most while pods keep coming, and a pod already seen does not extend it', () => {
    const fire = vi.fn();
    const b = new PendingBatcher({ idleMs: 1000, maxMs: 10_000, fire });
    for (let i = 0; i < 17; i++) {
      b.add(`p${i}`);
      vi.advanceTimersByTime(600);
    }
    expect(fire).toHaveBeenCalledTimes(1);
    fire.mockClear();
    b.add('p0'); // already seen, not forgotten
    vi.advanceTimersByTime(2000);
    expect(fire).not.toHaveBeenCalled();
    b.forget('p0');
    b.add('p0');
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});

describe('pods held by the open batch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds only the pods of the batch still collecting, so earlier batches are planned while pods keep coming', () => {
    const fire = vi.fn();
    const b = new PendingBatcher({ idleMs: 1000, maxMs: 10_000, fire });
    for (let i = 0; i < 20; i++) {
      b.add(`p${i}`);
      vi.advanceTimersByTime(600);
    }
    // the first batch (p0..p16) closed at 10 s; p17.. form the next one
    expect(fire).toHaveBeenCalledTimes(1);
    expect(b.open).toBe(true);
    expect(b.holds('p3')).toBe(false);
    expect(b.holds('p18')).toBe(true);
    b.forget('p18');
    expect(b.holds('p18')).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(2);
    expect(b.holds('p19')).toBe(false);
  });
});
