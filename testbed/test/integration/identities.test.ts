// Every operator runs as itself on the testbed: its ServiceAccount has exactly its generated role, its IAM
// user exactly its policy's actions, and moto enforces IAM for everyone (testbed/README.md, "Identities").
import { describe, expect, it } from 'vitest';
import { DescribeSubnetsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CoreV1Api } from '@kubernetes/client-node';
import { operatorKubeConfig, restrictedIdentityEnv, testbedEnv } from '../../src/testing.ts';

const tb = testbedEnv();
const ec2As = (accessKeyId: string, secretAccessKey: string) => new EC2Client({ region: tb.region, endpoint: tb.awsEndpoint, credentials: { accessKeyId, secretAccessKey } });
const errorOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error & { Code?: string }) => `${e.name}: ${e.message}`);

describe('identities on the testbed', () => {
  it('an IAM user with the lb-operator policy may call what it lists and is denied the rest, naming the action', async () => {
    // A copy of its identity (nothing dropped): the denied probe is not counted as the operator's call by check:iam.
    const id = await restrictedIdentityEnv('lb-operator', {});
    const ec2 = ec2As(id.AWS_ACCESS_KEY_ID ?? '', id.AWS_SECRET_ACCESS_KEY ?? '');
    expect(await errorOf(ec2.send(new DescribeSubnetsCommand({})))).toBe('ok');
    expect(await errorOf(ec2.send(new DescribeVolumesCommand({})))).toMatch(/AccessDenied.*ec2:DescribeVolumes/);
  });

  it('moto refuses keys of no IAM user (its old dummy testing keys)', async () => {
    expect(await errorOf(ec2As('testing', 'testing').send(new DescribeSubnetsCommand({})))).toMatch(/AuthFailure/);
  });

  it('the lb-operator ServiceAccount reads Services but not Pods (403)', async () => {
    const core = operatorKubeConfig('lb-operator').makeApiClient(CoreV1Api);
    expect((await core.listServiceForAllNamespaces()).items.length).toBeGreaterThan(0);
    const denied = await core.listPodForAllNamespaces().then(() => 0, (e: { code?: number }) => e.code);
    expect(denied).toBe(403);
  });
});
