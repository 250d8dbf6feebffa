// Reading KMS keys: which key an ID, alias or ARN names. Only volumes use KMS (EBS encryption); the
// client itself is core's, read-only by the ownership guard's rule.
import { DescribeKeyCommand, type KeyMetadata, type KMSClient } from '@aws-sdk/client-kms';
import { classifyAwsError } from '@kube-iaas/core/aws';
import type { KmsKey, KmsKeyLookup } from '../plan/kms.ts';

export type { KmsKey, KmsKeyLookup } from '../plan/kms.ts';

function def<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function toKmsKey(m: KeyMetadata): KmsKey {
  return def({
    keyId: m.KeyId ?? '',
    arn: m.Arn ?? '',
    state: m.KeyState ?? (m.Enabled ? 'Enabled' : 'Unknown'),
    enabled: m.Enabled ?? false,
    keyUsage: m.KeyUsage,
    keySpec: m.KeySpec ?? m.CustomerMasterKeySpec,
    keyManager: m.KeyManager,
    deletionDate: m.DeletionDate,
  });
}

/**
 * DescribeKey for a key ID, key ARN, `alias/<name>` or alias ARN. Not found (including KMS's "Invalid
 * keyId" for a malformed ID) → `{found: false}`; other errors (access denied, throttling) throw.
 */
export async function describeKmsKey(kms: Pick<KMSClient, 'send'>, keyId: string): Promise<KmsKeyLookup> {
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    if (!out.KeyMetadata) return { found: false, keyId, message: 'DescribeKey returned no key metadata' };
    return { found: true, key: toKmsKey(out.KeyMetadata) };
  } catch (err) {
    const c = classifyAwsError(err);
    if (c.kind === 'not-found') return { found: false, keyId, message: c.message };
    throw err;
  }
}
