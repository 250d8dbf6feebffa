import { DescribeKeyCommand, type KeyMetadata, type KMSClient } from '@aws-sdk/client-kms';
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, Pluggable } from '@smithy/types';
import { OwnershipError } from '../tags/ownership.ts';
import { awsMetrics } from './call-stats.ts';
import { classifyAwsError } from './errors.ts';
import { operationClass } from './rate-limit.ts';

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

/**
 * kube-iaas only reads KMS (EBS makes its own grants when a volume is created), so the KMS client
 * refuses every call that is not a Describe/Get/List: the ownership guard's rule for KMS is "nothing".
 */
export function kmsReadOnlyPlugin<I extends object = object, O extends object = object>(cluster: string): Pluggable<I, O> {
  const middleware =
    (next: InitializeHandler<I, O>, context: HandlerExecutionContext): InitializeHandler<I, O> =>
    async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      if (operationClass(operation) !== 'describe') {
        awsMetrics().refusals.inc({ service: 'kms', operation, reason: 'no-rule' });
        throw new OwnershipError(`refusing KMS ${operation}: kube-iaas only reads KMS keys`, { reason: 'no-rule', cluster, operation });
      }
      return next(args);
    };
  return {
    applyToStack: (stack) => {
      stack.add(middleware, { step: 'initialize', priority: 'high', name: 'kubeIaasKmsReadOnly', override: true });
    },
  };
}
