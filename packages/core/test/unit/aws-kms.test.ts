/**
 * The read-only KMS client (key lookups are volume-operator's); the instance's block-device mappings in `toInstance`.
 * The KMS client runs its real middleware stack; only the HTTP layer answers (JSON protocol).
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateGrantCommand, DescribeKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { AwsError, createAwsClients, toInstance, type AwsClients } from '../../src/aws/index.ts';
import { OwnershipError } from '../../src/tags/index.ts';

const ARN = 'arn:aws-cn:kms:cn-northwest-1:123456789012:key/3c1aeb73-e7db-41ac-9c59-5d435b802360';
const META: KeyMetadata = { KeyId: '3c1aeb73-e7db-41ac-9c59-5d435b802360', Arn: ARN, Enabled: true, KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT', KeyManager: 'CUSTOMER' };

/** A KMS endpoint that knows one key and one alias for it. */
function kmsHandler(seen: string[]) {
  return {
    handle: async (request: { body?: unknown; headers?: Record<string, string> }) => {
      const target = request.headers?.['x-amz-target'] ?? '';
      seen.push(target.replace(/^TrentService\./, ''));
      const raw = request.body instanceof Uint8Array ? Buffer.from(request.body).toString() : String(request.body ?? '{}');
      const body = JSON.parse(raw) as { KeyId?: string };
      const known = [META.KeyId ?? '', ARN, 'alias/data', 'arn:aws-cn:kms:cn-northwest-1:123456789012:alias/data'];
      const [status, out] = known.includes(body.KeyId ?? '')
        ? [200, { KeyMetadata: { ...META, CreationDate: 1795807789 } }]
        : [400, { __type: 'NotFoundException', message: `Alias arn:aws-cn:kms:cn-northwest-1:123456789012:${body.KeyId} is not found.` }];
      return { response: { statusCode: status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(JSON.stringify(out))]) } };
    },
  };
}

let clients: AwsClients | undefined;
afterEach(() => clients?.destroy());

async function make(seen: string[]): Promise<AwsClients> {
  clients = await createAwsClients({
    cluster: 'int32bit-kubernetes',
    region: 'cn-northwest-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    sdk: { requestHandler: kmsHandler(seen) as never },
  });
  return clients;
}

describe('KMS', () => {
  it('the KMS client is read-only: a mutating call is refused before anything is sent', async () => {
    const seen: string[] = [];
    const aws = await make(seen);
    const err = await aws.kms.send(new CreateGrantCommand({ KeyId: ARN, GranteePrincipal: 'x', Operations: ['Decrypt'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OwnershipError);
    expect((err as OwnershipError).reason).toBe('no-rule');
    expect(seen).toEqual([]);
    await aws.kms.send(new DescribeKeyCommand({ KeyId: ARN }));
    expect(seen).toEqual(['DescribeKey']);
  });

  it('AwsError classification: KMS NotFoundException is not-found', () => {
    expect(AwsError.from(Object.assign(new Error('x'), { name: 'NotFoundException' })).kind).toBe('not-found');
  });
});

describe('toInstance block devices', () => {
  it('maps the root device name and every block-device mapping, sorted by device name', () => {
    const i = toInstance({
      InstanceId: 'i-1',
      InstanceType: 'c5.large',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvdbb', Ebs: { VolumeId: 'vol-2', Status: 'attaching' } },
        { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', Status: 'attached', DeleteOnTermination: true } },
        { Ebs: { VolumeId: 'vol-nameless' } },
      ],
    });
    expect(i.rootDeviceName).toBe('/dev/xvda');
    expect(i.blockDevices).toEqual([
      { deviceName: '/dev/xvda', volumeId: 'vol-root', status: 'attached', deleteOnTermination: true },
      { deviceName: '/dev/xvdbb', volumeId: 'vol-2', status: 'attaching' },
    ]);
    expect(toInstance({ InstanceId: 'i-2' }).blockDevices).toEqual([]);
  });
});
