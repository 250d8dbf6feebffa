// Is the KMS key of an AwsVolume usable, judged before CreateVolume? Pure; the lookup comes from core.
import { kmsKeyUnusableForEncryption, type KmsKeyLookup } from '@kube-iaas/core';

export type KmsVerdict = { ok: true; arn: string } | { ok: false; message: string; retry: boolean };

/**
 * A key that does not exist is the class's mistake (retried only on resync); a key that exists but is
 * disabled or pending deletion may be enabled again, so that is retried with backoff. On AWS, EBS would
 * accept the CreateVolume and the volume would then go from `creating` to gone: checking first leaves
 * nothing behind and names the parameter.
 */
export function judgeKmsKey(kmsKeyId: string, lookup: KmsKeyLookup, region: string): KmsVerdict {
  if (!lookup.found) return { ok: false, retry: false, message: `kmsKeyId: KMS key ${kmsKeyId} not found in ${region} (${lookup.message}); no volume was created` };
  const why = kmsKeyUnusableForEncryption(lookup.key);
  if (why) return { ok: false, retry: true, message: `kmsKeyId: ${kmsKeyId}: ${why}; no volume was created` };
  return { ok: true, arn: lookup.key.arn || kmsKeyId };
}
