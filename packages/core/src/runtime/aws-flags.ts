// The AWS flags every operator that calls AWS takes, declared once so `--help`, environment names and
// validation are the same everywhere. Not part of `runtimeFlags` because a runtime without AWS (a
// controller that only touches Kubernetes) should not show them.
import type { AwsClientsConfig } from '../aws/clients.ts';
import { DEFAULT_RATE_LIMITS, type BucketSpec, type RateLimitOverrides } from '../aws/rate-limit.ts';
import { flag } from './config.ts';

/**
 * Parses `service.class=rate/burst` entries separated by commas, e.g. `elbv2.mutate=10/20,ec2.describe=off`.
 * `off` turns that bucket off. Throws with the entry that is wrong.
 */
export function parseRateLimitOverrides(text: string): RateLimitOverrides {
  const out: Record<string, Record<string, BucketSpec | false>> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^([a-z0-9]+)\.(describe|mutate)=(?:(off)|(\d+(?:\.\d+)?)\/(\d+))$/.exec(entry);
    if (!m) throw new Error(`"${entry}": expected <service>.<describe|mutate>=<rate>/<burst> or =off`);
    // the regular expression guarantees the first two groups; the rest are there or not
    const [, service = '', cls = '', off, rate, burst] = m;
    if (!(service in DEFAULT_RATE_LIMITS)) throw new Error(`"${entry}": unknown service "${service}" (one of ${Object.keys(DEFAULT_RATE_LIMITS).join(', ')})`);
    const spec: BucketSpec | false = off ? false : { ratePerSecond: Number(rate), burst: Number(burst) };
    if (spec && (!(spec.ratePerSecond > 0) || !(spec.burst >= 1))) throw new Error(`"${entry}": rate must be above 0 and burst at least 1`);
    (out[service] ??= {})[cls] = spec;
  }
  return out as RateLimitOverrides;
}

export const awsFlags = {
  'aws-role-arn': flag.string({
    description: 'Assume this IAM role through STS for AWS calls (default: the SDK credential chain).',
    env: 'AWS_ROLE_ARN',
    default: '',
    validate: (v) => (v === '' || /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/.+$/.test(v) ? undefined : 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)'),
  }),
  'aws-rate-limits': flag.string({
    description: `Client-side AWS call budgets per service and class, e.g. "elbv2.mutate=10/20,ec2.describe=off" (rate per second / burst). Defaults: ${Object.entries(
      DEFAULT_RATE_LIMITS,
    )
      .map(([s, c]) => `${s} ${c.describe.ratePerSecond}/${c.describe.burst} describe, ${c.mutate.ratePerSecond}/${c.mutate.burst} mutate`)
      .join('; ')}.`,
    env: 'AWS_RATE_LIMITS',
    default: '',
    validate: (v) => {
      try {
        parseRateLimitOverrides(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  }),
  // Workarounds for what only the emulator does wrong (moto: repeated addresses, …) cost calls and time
  // on AWS, where they never find anything; so they run only when this is on. The testbed sets it for
  // every operator it starts (AWS_EMULATOR_QUIRKS in its aws.env); nothing else should.
  'aws-emulator-quirks': flag.bool({
    description: 'Compensate for the AWS emulator (moto) of the testbed: extra checks that real AWS never needs. Never set it against AWS.',
    env: 'AWS_EMULATOR_QUIRKS',
    default: false,
  }),
} as const;

/** The part of `createAwsClients`' config the AWS flags decide. */
export function awsClientOptions(cfg: { awsRoleArn: string; awsRateLimits: string }): Pick<AwsClientsConfig, 'roleArn' | 'rateLimits'> {
  return {
    ...(cfg.awsRoleArn ? { roleArn: cfg.awsRoleArn } : {}),
    ...(cfg.awsRateLimits ? { rateLimits: parseRateLimitOverrides(cfg.awsRateLimits) } : {}),
  };
}
