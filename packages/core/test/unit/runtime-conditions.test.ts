import { describe, expect, it } from 'vitest';
import {
  conditionsEqual,
  getCondition,
  isConditionTrue,
  readyCondition,
  removeCondition,
  setCondition,
  setConditions,
  syncedCondition,
  type Condition,
} from '../../src/runtime/index.ts';

const t0 = new Date('2025-01-01T10:00:00.123Z');
const t1 = new Date('2025-01-01T10:05:00.000Z');
const t2 = new Date('2025-01-01T10:09:00.000Z');

describe('status conditions', () => {
  it('adds a new condition with lastTransitionTime = now (second precision)', () => {
    const c = setCondition(undefined, readyCondition(false, 'Provisioning', 'creating the load balancer', 3), t0);
    expect(c).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Provisioning',
        message: 'creating the load balancer',
        observedGeneration: 3,
        lastTransitionTime: '2025-01-01T10:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const a = setCondition(undefined, readyCondition(false, 'Provisioning', 'step 1', 1), t0);
    const b = setCondition(a, readyCondition(false, 'AwsThrottled', 'step 2', 2), t1);
    expect(getCondition(b, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'AwsThrottled',
      message: 'step 2',
      observedGeneration: 2,
      lastTransitionTime: '2025-01-01T10:00:00Z',
    });
  });

  it('moves lastTransitionTime when the status flips, and again when it flips back', () => {
    const a = setCondition(undefined, readyCondition(false, 'Provisioning'), t0);
    const b = setCondition(a, readyCondition(true, 'Provisioned'), t1);
    expect(getCondition(b, 'Ready')?.lastTransitionTime).toBe('2025-01-01T10:05:00Z');
    expect(isConditionTrue(b, 'Ready')).toBe(true);
    const c = setCondition(b, readyCondition('Unknown', 'Deleting'), t2);
    expect(getCondition(c, 'Ready')?.lastTransitionTime).toBe('2025-01-01T10:09:00Z');
    expect(isConditionTrue(c, 'Ready')).toBe(false);
  });

  it('leaves other conditions and the input untouched', () => {
    const a = setConditions(undefined, [readyCondition(true, 'Provisioned'), syncedCondition(true, 'ReconcileSucceeded')], t0);
    const frozen = structuredClone(a);
    const b = setCondition(a, syncedCondition(false, 'ReconcileError', 'AccessDenied: not allowed'), t1);
    expect(a).toEqual(frozen);
    expect(b.map((c) => c.type)).toEqual(['Ready', 'Synced']);
    expect(getCondition(b, 'Ready')).toEqual(getCondition(a, 'Ready'));
    expect(getCondition(b, 'Synced')).toMatchObject({ status: 'False', lastTransitionTime: '2025-01-01T10:05:00Z' });
    expect(removeCondition(b, 'Synced').map((c) => c.type)).toEqual(['Ready']);
  });

  it('re-applying the same update yields an equal list (so a status write can be skipped)', () => {
    const a = setConditions(undefined, [readyCondition(true, 'Provisioned', 'ok', 4), syncedCondition(true, 'ReconcileSucceeded', '', 4)], t0);
    const b = setConditions(a, [readyCondition(true, 'Provisioned', 'ok', 4), syncedCondition(true, 'ReconcileSucceeded', '', 4)], t2);
    expect(conditionsEqual(a, b)).toBe(true);
    expect(b).toEqual(a);
    const c = setCondition(b, readyCondition(true, 'Provisioned', 'ok', 5), t2);
    expect(conditionsEqual(a, c)).toBe(false);
  });

  it('rejects reasons that are not CamelCase identifiers and truncates huge messages', () => {
    expect(() => setCondition([], readyCondition(false, 'not valid!'))).toThrow(/reason must be CamelCase/);
    expect(() => setCondition([], readyCondition(false, ''))).toThrow(/reason/);
    const c = setCondition([] as Condition[], readyCondition(false, 'Failed', 'x'.repeat(40_000)), t0);
    expect(c[0]!.message.length).toBe(32_768);
  });
});
