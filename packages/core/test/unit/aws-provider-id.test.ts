import { describe, expect, it } from 'vitest';
import { instanceIdOfNode, isInstanceId, parseProviderId } from '../../src/aws/index.ts';

const ID17 = 'i-0123456789abcdef0';
const ID8 = 'i-0a1b2c3d';

describe('parseProviderId', () => {
  // Every form the AWS cloud provider (kops, EKS, self-managed) writes or reads back, and the near misses.
  const cases: [string, string | undefined, { instanceId: string; zone?: string } | undefined][] = [
    ['cloud provider / EKS / kops, 17 hex', `aws:///us-east-1a/${ID17}`, { instanceId: ID17, zone: 'us-east-1a' }],
    ['8-hex ID (instances from before 2016)', `aws:///us-east-1a/${ID8}`, { instanceId: ID8, zone: 'us-east-1a' }],
    ['China partition zone', `aws:///cn-northwest-1b/${ID17}`, { instanceId: ID17, zone: 'cn-northwest-1b' }],
    ['Local Zone', `aws:///us-west-2-lax-1a/${ID17}`, { instanceId: ID17, zone: 'us-west-2-lax-1a' }],
    ['Wavelength zone', `aws:///us-east-1-wl1-bos-wlz-1/${ID17}`, { instanceId: ID17, zone: 'us-east-1-wl1-bos-wlz-1' }],
    ['no zone', `aws:///${ID17}`, { instanceId: ID17 }],
    ['empty zone', `aws:////${ID17}`, { instanceId: ID17 }],
    ['zone in the host position', `aws://us-east-1a/${ID17}`, { instanceId: ID17, zone: 'us-east-1a' }],
    ['Fargate (no instance)', 'aws:///us-east-1a/0123456789abcdef0123456789abcdef/fargate-ip-192-168-1-2.ec2.internal', undefined],
    ['Fargate short form', 'aws:///us-east-1a/fargate-ip-192-168-1-2.ec2.internal', undefined],
    ['instance ID of 7 hex digits', 'aws:///us-east-1a/i-0123abc', undefined],
    ['instance ID of 9 hex digits', 'aws:///us-east-1a/i-0123abcd0', undefined],
    ['upper-case hex', 'aws:///us-east-1a/i-0123456789ABCDEF0', undefined],
    ['not hex', 'aws:///us-east-1a/i-0123456789abcdefg', undefined],
    ['not an instance', 'aws:///us-east-1a/vol-0123456789abcdef0', undefined],
    ['trailing slash', `aws:///us-east-1a/${ID17}/`, undefined],
    ['surrounding space', ` aws:///us-east-1a/${ID17}`, undefined],
    ['another cloud', 'gce://project/us-central1-a/node-1', undefined],
    ['kind', 'kind://docker/kind/kind-worker', undefined],
    ['EKS hybrid node', 'eks-hybrid:///us-east-1/my-cluster/mi-0123456789abcdef0', undefined],
    ['bare instance ID', ID17, undefined],
    ['empty', '', undefined],
    ['not set', undefined, undefined],
  ];
  it.each(cases)('%s: %s', (_, providerId, expected) => {
    expect(parseProviderId(providerId)).toEqual(expected);
  });

  it('reads a Node and checks instance IDs alone', () => {
    expect(instanceIdOfNode({ spec: { providerID: `aws:///us-east-1a/${ID17}` } })).toBe(ID17);
    expect(instanceIdOfNode({ spec: {} })).toBeUndefined();
    expect(instanceIdOfNode(undefined)).toBeUndefined();
    expect(isInstanceId(ID8)).toBe(true);
    expect(isInstanceId('i-0a')).toBe(false);
  });
});
