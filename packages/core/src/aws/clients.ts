import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from '../log.ts';
import { AwsCallRecorder, type AwsCallStats } from './call-stats.ts';
import { OwnershipGuard } from './guard.ts';
import { kmsReadOnlyPlugin } from './kms.ts';
import { awsCallPlugin } from './middleware.ts';
import { arn, partitionForRegion, type Partition } from './partition.ts';
import { AwsRateLimiter, type RateLimitOverrides } from './rate-limit.ts';

export interface AwsClientsConfig {
  /** The Kubernetes cluster name; the ownership guard allows changes only to what is tagged for it. */
  cluster: string;
  /** Else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the instance metadata service. */
  region?: string;
  /**
   * Assume this role through STS (the article: roles, never static keys). The base credentials
   * come from the default chain (or `credentials`). Without it the default chain is used directly:
   * environment, shared config/SSO, web identity (IRSA), EKS Pod Identity / ECS, instance profile.
   */
  roleArn?: string;
  /** Default `kube-iaas-<cluster>`; shows in CloudTrail. */
  roleSessionName?: string;
  externalId?: string;
  /** Default 3600. */
  roleDurationSeconds?: number;
  /** Base credentials instead of the default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** SDK attempts per call with the adaptive retry strategy. Default 5. */
  maxAttempts?: number;
  rateLimits?: RateLimitOverrides;
  /** How long the ownership guard trusts tags it has seen. Default 30 s. */
  tagCacheTtlMs?: number;
  logger?: Logger;
  /** Instance metadata lookup for the region; `false` disables it. */
  imds?: { timeoutMs?: number } | false;
  /** Passed to every SDK client: a custom `requestHandler` (proxy, connection pool, timeouts) or user agent. */
  sdk?: Pick<EC2ClientConfig, 'requestHandler' | 'customUserAgent'>;
}

export interface AwsClients {
  readonly cluster: string;
  readonly region: string;
  readonly partition: Partition;
  /** These are guarded: every mutating call passes `guard` (see `OwnershipGuard`). */
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly sts: STSClient;
  /** Read-only: any call other than Describe/Get/List is refused before it is sent (see `describeKmsKey`). */
  readonly kms: KMSClient;
  readonly guard: OwnershipGuard;
  readonly limiter: AwsRateLimiter;
  /** Calls made through these clients (the process-wide view is `awsCallStats()`). */
  stats(): AwsCallStats;
  /** The account of the credentials in use (STS GetCallerIdentity, asked once). */
  accountId(): Promise<string>;
  /** An ARN in this region's partition and (by default) this account. */
  arn(service: string, resource: string, account?: string): Promise<string>;
  destroy(): void;
}

const SESSION_NAME_RE = /[^\w+=,.@-]/g;

/** `kube-iaas-<cluster>`, reduced to what STS accepts (2-64 of `[\w+=,.@-]`). */
export function defaultRoleSessionName(cluster: string): string {
  return `kube-iaas-${cluster}`.replace(SESSION_NAME_RE, '-').slice(0, 64);
}

/**
 * The region: `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else instance metadata
 * (IMDSv2, 1 s timeout; skipped when `AWS_EC2_METADATA_DISABLED=true`). Throws naming all three.
 */
export async function resolveRegion(opts: { region?: string; env?: NodeJS.ProcessEnv; imds?: { timeoutMs?: number } | false } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const explicit = opts.region || env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (explicit) return explicit;
  let why = 'instance metadata disabled';
  if (opts.imds !== false && env.AWS_EC2_METADATA_DISABLED?.toLowerCase() !== 'true') {
    try {
      const imds = new MetadataService({ httpOptions: { timeout: opts.imds?.timeoutMs ?? 1000 }, retries: 1 });
      const region = (await imds.request('/latest/meta-data/placement/region', {})).trim();
      if (region) return region;
      why = 'instance metadata returned no region';
    } catch (e) {
      why = `instance metadata did not answer (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  throw new Error(`AWS region is not set: pass region, or set AWS_REGION or AWS_DEFAULT_REGION (${why})`);
}

/**
 * The EC2, Auto Scaling, ELBv2, STS and (read-only) KMS clients every operator uses. Endpoints follow the SDK's own
 * configuration (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, `endpoint_url` in the shared
 * config): that is how the testbed points them at its AWS emulator. Each client:
 * - retries with the SDK's adaptive strategy (client-side backoff on throttling);
 * - takes a token from a per-service, per-class (describe/mutate) bucket before every attempt;
 * - counts every call in Prometheus and `awsCallStats()`, and throws `AwsError` (classified);
 * - EC2, ELBv2 and Auto Scaling pass every mutating call through the ownership guard.
 */
export async function createAwsClients(config: AwsClientsConfig): Promise<AwsClients> {
  if (!config.cluster) throw new Error('createAwsClients: cluster is required (the ownership guard needs it)');
  const region = await resolveRegion({ ...(config.region ? { region: config.region } : {}), ...(config.imds !== undefined ? { imds: config.imds } : {}) });
  const partition = partitionForRegion(region);
  const limiter = new AwsRateLimiter(config.rateLimits ?? {});
  const recorder = new AwsCallRecorder({ logSize: 0 });
  const maxAttempts = config.maxAttempts ?? 5;
  const common = { region, maxAttempts, retryMode: 'adaptive' as const, ...(config.sdk ?? {}) };

  const base = config.credentials ?? fromNodeProviderChain();
  const credentials = config.roleArn
    ? fromTemporaryCredentials({
        params: {
          RoleArn: config.roleArn,
          RoleSessionName: config.roleSessionName ?? defaultRoleSessionName(config.cluster),
          DurationSeconds: config.roleDurationSeconds ?? 3600,
          ...(config.externalId ? { ExternalId: config.externalId } : {}),
        },
        masterCredentials: base,
        clientConfig: common,
        clientPlugins: [awsCallPlugin({ service: 'sts', limiter, recorder })],
      })
    : base;

  const guard = new OwnershipGuard({ cluster: config.cluster, ...(config.tagCacheTtlMs !== undefined ? { tagCacheTtlMs: config.tagCacheTtlMs } : {}), ...(config.logger ? { logger: config.logger } : {}) });
  const ec2 = new EC2Client({ ...common, credentials });
  const autoScaling = new AutoScalingClient({ ...common, credentials });
  const elbv2 = new ElasticLoadBalancingV2Client({ ...common, credentials });
  const sts = new STSClient({ ...common, credentials });
  const kms = new KMSClient({ ...common, credentials });
  ec2.middlewareStack.use(guard.plugin('ec2'));
  autoScaling.middlewareStack.use(guard.plugin('autoscaling'));
  elbv2.middlewareStack.use(guard.plugin('elbv2'));
  ec2.middlewareStack.use(awsCallPlugin({ service: 'ec2', limiter, recorder }));
  autoScaling.middlewareStack.use(awsCallPlugin({ service: 'autoscaling', limiter, recorder }));
  elbv2.middlewareStack.use(awsCallPlugin({ service: 'elbv2', limiter, recorder }));
  sts.middlewareStack.use(awsCallPlugin({ service: 'sts', limiter, recorder }));
  kms.middlewareStack.use(kmsReadOnlyPlugin(config.cluster));
  kms.middlewareStack.use(awsCallPlugin({ service: 'kms', limiter, recorder }));
  guard.attach({ ec2, elbv2, autoScaling });

  let account: Promise<string> | undefined;
  const accountId = (): Promise<string> => {
    account ??= sts.send(new GetCallerIdentityCommand({})).then((r) => {
      if (!r.Account) throw new Error('STS GetCallerIdentity returned no account');
      return r.Account;
    });
    account.catch(() => (account = undefined));
    return account;
  };

  return {
    cluster: config.cluster,
    region,
    partition,
    ec2,
    autoScaling,
    elbv2,
    sts,
    kms,
    guard,
    limiter,
    stats: () => recorder.snapshot(),
    accountId,
    arn: async (service, resource, acct) => arn({ service, region, account: acct ?? (await accountId()), resource }),
    destroy: () => {
      for (const c of [ec2, autoScaling, elbv2, sts, kms]) c.destroy();
    },
  };
}
