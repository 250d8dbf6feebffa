import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  HelpRequested,
  checkRuntimeConfig,
  flag,
  formatUsage,
  parseConfig,
  parseDuration,
  runtimeFlags,
} from '../../src/runtime/index.ts';

const base = ['--cluster-name=int32bit-kubernetes'];

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults and camel-cases names', () => {
    const c = parseConfig(runtimeFlags, base, {});
    expect(c).toMatchObject({
      clusterName: 'int32bit-kubernetes',
      metricsBindAddress: ':8080',
      leaderElect: true,
      workers: 4,
      resyncPeriod: 600_000,
      namespace: '',
      logLevel: 'info',
      leaderElectLeaseDuration: 15_000,
      leaderElectRenewDeadline: 10_000,
      leaderElectRetryPeriod: 2_000,
    });
    expect(c.kubeconfig).toBeUndefined();
  });

  it('reads flags in every form, flags win over the environment, env wins over defaults', () => {
    const c = parseConfig(
      runtimeFlags,
      ['--cluster-name', 'from-flag', '--workers=8', '--no-leader-elect', '--resync-period=1h30m', '--namespace', 'kube-system'],
      { CLUSTER_NAME: 'from-env', WORKERS: '2', LOG_LEVEL: 'debug', METRICS_BIND_ADDRESS: '127.0.0.1:9090' },
    );
    expect(c.clusterName).toBe('from-flag');
    expect(c.workers).toBe(8);
    expect(c.leaderElect).toBe(false);
    expect(c.resyncPeriod).toBe(5_400_000);
    expect(c.namespace).toBe('kube-system');
    expect(c.logLevel).toBe('debug');
    expect(c.metricsBindAddress).toBe('127.0.0.1:9090');
    expect(parseConfig(runtimeFlags, [], { CLUSTER_NAME: 'from-env' }).clusterName).toBe('from-env');
    expect(parseConfig(runtimeFlags, [...base, '--leader-elect=false'], {}).leaderElect).toBe(false);
    expect(parseConfig(runtimeFlags, base, { LEADER_ELECT: 'no' }).leaderElect).toBe(false);
    // the Lease namespace falls back to the pod's namespace from the downward API
    expect(parseConfig(runtimeFlags, base, { POD_NAMESPACE: 'kube-iaas' }).leaderElectNamespace).toBe('kube-iaas');
  });

  it('names the flag or variable and what is wrong, listing every problem at once', () => {
    const p = problems(() =>
      parseConfig(runtimeFlags, ['--workers=0', '--resync-period=10', '--log-level=loud', '--metrics-bind-address=localhost', '--bogus'], {
        LEADER_ELECT: 'maybe',
      }),
    );
    expect(p).toEqual([
      'unknown flag --bogus',
      '--cluster-name (or CLUSTER_NAME) is required: Name of the Kubernetes cluster; AWS resources are tagged kubernetes.io/cluster/<name>.',
      '--metrics-bind-address=localhost: expected host:port, :port or 0, got "localhost"',
      '--log-level=loud: must be one of trace, debug, info, warn, error, fatal, silent',
      '--workers=0: must be at least 1',
      '--resync-period=10: must be a duration such as 500ms, 30s, 5m or 1h30m',
      'LEADER_ELECT=maybe (environment): must be true or false',
    ]);
  });

  it('validates the cluster name and the namespace', () => {
    expect(problems(() => parseConfig(runtimeFlags, ['--cluster-name=bad name'], {}))).toEqual([
      '--cluster-name=bad name: must match /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/',
    ]);
    expect(problems(() => parseConfig(runtimeFlags, base, { WATCH_NAMESPACE: 'Not_A_Namespace' }))).toEqual([
      'WATCH_NAMESPACE=Not_A_Namespace (environment): must be a namespace name (DNS label)',
    ]);
  });

  it('checks cross-flag rules of leader election and backoff', () => {
    const p = problems(() =>
      parseConfig(
        runtimeFlags,
        [...base, '--leader-elect-lease-duration=5s', '--leader-elect-renew-deadline=6s', '--backoff-base=10s', '--backoff-max=1s'],
        {},
        { check: checkRuntimeConfig },
      ),
    );
    expect(p).toEqual([
      '--backoff-max (1s) must not be shorter than --backoff-base (10s)',
      '--leader-elect-lease-duration (5s) must be longer than --leader-elect-renew-deadline (6s)',
    ]);
  });

  it('reports a missing value', () => {
    expect(problems(() => parseConfig(runtimeFlags, [...base, '--workers'], {}))).toEqual(['--workers needs a value']);
  });

  it('supports operator-specific flags with types', () => {
    const specs = {
      ...runtimeFlags,
      region: flag.string({ description: 'AWS region', env: ['AWS_REGION', 'AWS_DEFAULT_REGION'] }),
      'max-volumes': flag.int({ description: 'cap', default: 25, min: 1, max: 100 }),
      'subnet-ids': flag.list({ description: 'subnets', default: [] }),
      'sync-timeout': flag.duration({ description: 'timeout', default: 5000, max: 60_000 }),
    };
    const c = parseConfig(specs, [...base, '--subnet-ids=subnet-1, subnet-2,,', '--max-volumes=7'], { AWS_DEFAULT_REGION: 'cn-northwest-1' });
    // typed: these assignments compile only with the right types
    const region: string | undefined = c.region;
    const max: number = c.maxVolumes;
    const subnets: string[] = c.subnetIds;
    expect({ region, max, subnets, timeout: c.syncTimeout }).toEqual({
      region: 'cn-northwest-1',
      max: 7,
      subnets: ['subnet-1', 'subnet-2'],
      timeout: 5000,
    });
    expect(problems(() => parseConfig(specs, [...base, '--max-volumes=101', '--sync-timeout=2m'], {}))).toEqual([
      '--max-volumes=101: must be at most 100',
      '--sync-timeout=2m: must be at most 1m',
    ]);
  });

  it('throws HelpRequested with usage for --help', () => {
    expect(() => parseConfig(runtimeFlags, ['--help'], {})).toThrow(HelpRequested);
    const usage = formatUsage(runtimeFlags, 'lb-operator');
    expect(usage).toContain('Usage: lb-operator [flags]');
    expect(usage).toContain('--cluster-name <string>  [CLUSTER_NAME] (required)');
    expect(usage).toContain('--workers <int>  [WORKERS] (default 4)');
    expect(usage).toContain('--resync-period <duration>  [RESYNC_PERIOD] (default 10m)');
  });
});

describe('parseDuration', () => {
  it('parses Go-style durations', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h30m10s')).toBe(5_410_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
    expect(parseDuration('1d')).toBeUndefined();
  });
});
