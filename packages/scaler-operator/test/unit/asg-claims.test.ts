import { describe, expect, it } from 'vitest';
import { asgOwners, formatLimitsRecord, limitsRestore, nextLimitsRecord, parseLimitsRecord, type LimitsRecord } from '../../src/plan/limits.ts';

describe('asgOwners', () => {
  it('gives each ASG to the NodeGroup created first, then by name', () => {
    const owners = asgOwners([
      { name: 'second', asgName: 'nodes', created: '2026-12-03T10:00:05Z' },
      { name: 'nodes', asgName: 'nodes', created: new Date('2026-12-03T10:00:00Z') },
      { name: 'b', asgName: 'gpu', created: '2026-12-03T10:00:00Z' },
      { name: 'a', asgName: 'gpu', created: '2026-12-03T10:00:00Z' },
      { name: 'alone', asgName: 'spot' },
    ]);
    expect(Object.fromEntries(owners)).toEqual({ nodes: 'nodes', gpu: 'a', spot: 'alone' });
  });
});

describe('limits record', () => {
  it('round-trips and refuses anything else', () => {
    const r: LimitsRecord = { asgName: 'nodes', before: { minSize: 0, maxSize: 10 }, set: { minSize: 0, maxSize: 10000 } };
    expect(parseLimitsRecord(formatLimitsRecord(r))).toEqual(r);
    expect(parseLimitsRecord('{"asgName":"nodes","before":{"minSize":-1,"maxSize":3},"set":{"minSize":0,"maxSize":1}}')).toBeUndefined();
    expect(parseLimitsRecord('nope')).toBeUndefined();
    expect(parseLimitsRecord(undefined)).toBeUndefined();
  });
  it('keeps what the limits were before the first change, across later changes', () => {
    const first = nextLimitsRecord(undefined, 'nodes', { minSize: 0, maxSize: 10 }, { minSize: 1, maxSize: 20 });
    expect(first).toEqual({ asgName: 'nodes', before: { minSize: 0, maxSize: 10 }, set: { minSize: 1, maxSize: 20 } });
    expect(nextLimitsRecord(first, 'nodes', { minSize: 1, maxSize: 20 }, { minSize: 2, maxSize: 30 })).toEqual({ asgName: 'nodes', before: { minSize: 0, maxSize: 10 }, set: { minSize: 2, maxSize: 30 } });
  });
});

describe('limitsRestore', () => {
  const record: LimitsRecord = { asgName: 'nodes', before: { minSize: 0, maxSize: 10 }, set: { minSize: 1, maxSize: 10000 } };
  it('puts back what the operator found', () => {
    expect(limitsRestore(record, { minSize: 1, maxSize: 10000, desiredCapacity: 3 })).toMatchObject({ action: 'write', limits: { MinSize: 0, MaxSize: 10 } });
  });
  it('never below the running instances: MaxSize stays at the desired capacity, and says so', () => {
    const r = limitsRestore(record, { minSize: 1, maxSize: 10000, desiredCapacity: 14 });
    expect(r).toMatchObject({ action: 'write', limits: { MinSize: 0, MaxSize: 14 } });
    expect(r.action === 'write' && r.message).toContain('found 0/10; kept around the 14 running instance(s)');
  });
  it('leaves limits someone else changed since, and does nothing when they are already back', () => {
    expect(limitsRestore(record, { minSize: 0, maxSize: 50, desiredCapacity: 0 })).toMatchObject({ action: 'leave', message: expect.stringContaining('changed since the operator set 1/10000') });
    expect(limitsRestore(record, { minSize: 0, maxSize: 10, desiredCapacity: 0 })).toEqual({ action: 'none' });
  });
});
