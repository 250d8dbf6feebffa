// Is the KMS key of an AwsVolume usable, judged before CreateVolume? Pure; the lookup comes from aws/kms.ts.

/** A KMS key as kube-iaas needs to judge it: which key an ID/alias/ARN names, and whether it can be used. */
export interface KmsKey {
  keyId: string;
  arn: string;
  /** `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`, `Creating`, … */
  state: string;
  enabled: boolean;
  /** `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, … */
  keyUsage?: string;
  /** `SYMMETRIC_DEFAULT`, `RSA_2048`, … */
  keySpec?: string;
  /** `AWS` (an AWS managed key such as `alias/aws/ebs`) or `CUSTOMER`. */
  keyManager?: string;
  deletionDate?: Date;
}

/**
 * What `describeKmsKey` found. A key that does not exist (or an alias that points nowhere) is an
 * answer, not an exception: `found: false` with KMS's message.
 */
export type KmsKeyLookup = { found: true; key: KmsKey } | { found: false; keyId: string; message: string };

/**
 * Why a key cannot encrypt EBS volumes (or other AWS-managed data at rest), or undefined if it can:
 * it must be enabled, for encryption, and symmetric.
 */
export function kmsKeyUnusableForEncryption(key: KmsKey): string | undefined {
  if (key.state !== 'Enabled' || !key.enabled) {
    const when = key.state === 'PendingDeletion' && key.deletionDate ? ` (to be deleted ${key.deletionDate.toISOString()})` : '';
    return `KMS key ${key.arn || key.keyId} is ${key.state}${when}, not Enabled`;
  }
  if (key.keyUsage && key.keyUsage !== 'ENCRYPT_DECRYPT') return `KMS key ${key.arn || key.keyId} is for ${key.keyUsage}, not ENCRYPT_DECRYPT`;
  if (key.keySpec && key.keySpec !== 'SYMMETRIC_DEFAULT') return `KMS key ${key.arn || key.keyId} is ${key.keySpec}; EBS needs a symmetric key (SYMMETRIC_DEFAULT)`;
  return undefined;
}

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
