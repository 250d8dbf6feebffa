import { describe, expect, it } from 'vitest';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { failedActivities } from '../../src/aws/groups.ts';

// moto returns no scaling activities for launches, so this path is covered here, with the client
// stubbed at its send boundary, rather than on the testbed.
function client(activities: object[]): { asg: AutoScalingClient; inputs: unknown[] } {
  const inputs: unknown[] = [];
  const asg = { send: async (cmd: { input: unknown }) => (inputs.push(cmd.input), { Activities: activities }) } as unknown as AutoScalingClient;
  return { asg, inputs };
}

describe('failedActivities', () => {
  const since = new Date('2026-11-27T10:00:00Z');
  it('reports failed and cancelled activities that started since the scale-up, with their message', async () => {
    const { asg, inputs } = client([
      { StatusCode: 'Failed', StartTime: new Date('2026-11-27T10:00:05Z'), Description: 'Launching a new EC2 instance.', StatusMessage: 'The image id ami-1 does not exist. Launching EC2 instance failed.' },
      { StatusCode: 'Cancelled', StartTime: new Date('2026-11-27T10:00:06Z'), Description: 'Launching a new EC2 instance.', Cause: 'capacity' },
      { StatusCode: 'Successful', StartTime: new Date('2026-11-27T10:00:07Z'), Description: 'Launching a new EC2 instance: i-1' },
      { StatusCode: 'Failed', StartTime: new Date('2026-11-27T09:59:59Z'), Description: 'an older failure', StatusMessage: 'old' },
      { StatusCode: 'InProgress', StartTime: new Date('2026-11-27T10:00:08Z'), Description: 'Launching' },
    ]);
    expect(await failedActivities(asg, 'nodes', since)).toEqual([
      { description: 'Launching a new EC2 instance.', message: 'The image id ami-1 does not exist. Launching EC2 instance failed.' },
      { description: 'Launching a new EC2 instance.', message: 'capacity' },
    ]);
    expect(inputs).toEqual([{ AutoScalingGroupName: 'nodes', MaxRecords: 20 }]);
  });

  it('nothing failed: nothing to report', async () => {
    expect(await failedActivities(client([]).asg, 'nodes', since)).toEqual([]);
  });
});
