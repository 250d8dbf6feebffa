import { describe, expect, it } from 'vitest';
import { asgLimitsUpdate } from '../../src/aws/groups.ts';

const asg = { minSize: 0, maxSize: 10, desiredCapacity: 2 };

describe('asgLimitsUpdate (spec.manageAsgLimits)', () => {
  it('never touches the ASG unless the spec says so', () => {
    expect(asgLimitsUpdate({ minSize: 1, maxSize: 5 }, asg)).toBeUndefined();
    expect(asgLimitsUpdate({ manageAsgLimits: false, minSize: 1, maxSize: 5 }, asg)).toBeUndefined();
    // the CRD requires both sizes with manageAsgLimits; without them there is nothing to write
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 1 }, asg)).toBeUndefined();
    // min > max is bad input reported elsewhere, never written
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 6, maxSize: 5 }, asg)).toBeUndefined();
  });

  it('writes the spec limits when they differ, and only then', () => {
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 1, maxSize: 5 }, asg)).toEqual({ MinSize: 1, MaxSize: 5 });
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 0, maxSize: 10 }, asg)).toBeUndefined();
  });

  it('clamps the desired capacity into the new limits explicitly', () => {
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 3, maxSize: 5 }, asg)).toEqual({ MinSize: 3, MaxSize: 5, DesiredCapacity: 3 });
    expect(asgLimitsUpdate({ manageAsgLimits: true, minSize: 0, maxSize: 1 }, asg)).toEqual({ MinSize: 0, MaxSize: 1, DesiredCapacity: 1 });
  });
});
