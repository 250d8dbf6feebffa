/**
 * KMS key lookups for `kmsKeyId`. The KMS client (core's) runs its real middleware stack; only the HTTP
 * layer answers (JSON protocol).
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import { describeKmsKey, toKmsKey } from '../../src/aws/kms.ts';
import { kmsKeyUnusableForEncryption, type KmsKey } from '../../src/plan/kms.ts';

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

describe('KMS keys', () => {
  it('describeKmsKey resolves an ID, ARN, alias or alias ARN to the key, counted under service kms', async () => {
    const seen: string[] = [];
    const aws = await make(seen);
    for (const id of [META.KeyId ?? '', ARN, 'alias/data', 'arn:aws-cn:kms:cn-northwest-1:123456789012:alias/data']) {
      const r = await describeKmsKey(aws.kms, id);
      expect(r).toEqual({ found: true, key: { keyId: META.KeyId, arn: ARN, state: 'Enabled', enabled: true, keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', keyManager: 'CUSTOMER' } });
    }
    expect(aws.stats().count({ service: 'kms', operation: 'DescribeKey' })).toBe(4);
  });

  it('describeKmsKey: an unknown key or alias is found: false with the KMS message, not an exception', async () => {
    const aws = await make([]);
    expect(await describeKmsKey(aws.kms, 'alias/nope')).toEqual({ found: false, keyId: 'alias/nope', message: expect.stringContaining('alias/nope is not found') });
  });

  it('describeKmsKey rethrows what is not "not found" (access denied stays an error)', async () => {
    const denied = Object.assign(new Error('not authorized to perform kms:DescribeKey'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const stub = { send: async () => Promise.reject(denied) } as unknown as Pick<KMSClient, 'send'>;
    await expect(describeKmsKey(stub, 'alias/x')).rejects.toThrow('kms:DescribeKey');
  });

  it('kmsKeyUnusableForEncryption: enabled symmetric encryption keys only', () => {
    const key = (over: Partial<KmsKey>): KmsKey => ({ ...toKmsKey(META), ...over });
    expect(kmsKeyUnusableForEncryption(key({}))).toBeUndefined();
    expect(kmsKeyUnusableForEncryption(key({ state: 'Disabled', enabled: false }))).toBe(`KMS key ${ARN} is Disabled, not Enabled`);
    expect(kmsKeyUnusableForEncryption(key({ state: 'PendingDeletion', enabled: false, deletionDate: new Date('2026-12-04T00:00:00Z') }))).toBe(
      `KMS key ${ARN} is PendingDeletion (to be deleted 2026-12-04T00:00:00.000Z), not Enabled`,
    );
    expect(kmsKeyUnusableForEncryption(key({ keyUsage: 'SIGN_VERIFY' }))).toContain('is for SIGN_VERIFY, not ENCRYPT_DECRYPT');
    expect(kmsKeyUnusableForEncryption(key({ keySpec: 'RSA_2048' }))).toContain('EBS needs a symmetric key');
  });

});
