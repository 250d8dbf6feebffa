import { describe, expect, it } from 'vitest';
import { counter, metricsRegistry } from '../../src/metrics.ts';
import { Controller, awsClientOptions, awsFlags, metaOrSpecChanged, parseConfig, parseRateLimitOverrides, type Informer, type KubeObject } from '../../src/runtime/index.ts';

interface Obj extends KubeObject {
  spec?: { size: number };
  status?: { phase: string };
}

/** Only what `watch` uses of an informer: `on` with its handlers, which the test then fires. */
function handlersOf(): { informer: Informer<Obj>; fire: { update: (o: Obj, old?: Obj) => void; add: (o: Obj) => void } } {
  let h: { add?: (o: Obj) => void; update?: (o: Obj, old?: Obj) => void } = {};
  const informer = { on: (x: typeof h) => (h = x) } as unknown as Informer<Obj>;
  return { informer, fire: { update: (o, old) => h.update?.(o, old), add: (o) => h.add?.(o) } };
}

const obj = (rv: string, size: number, phase: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Thing',
  metadata: { name: 'a', namespace: 'ns', resourceVersion: rv, generation: size },
  spec: { size },
  status: { phase },
});

describe('metaOrSpecChanged', () => {
  it('ignores status, resourceVersion and managedFields', () => {
    expect(metaOrSpecChanged(obj('2', 1, 'Ready'), obj('1', 1, 'Pending'))).toBe(false);
  });
  it('sees spec, labels and deletion', () => {
    expect(metaOrSpecChanged(obj('2', 2, 'Ready'), obj('1', 1, 'Ready'))).toBe(true);
    const labelled = obj('2', 1, 'Ready');
    labelled.metadata!.labels = { a: 'b' };
    expect(metaOrSpecChanged(labelled, obj('1', 1, 'Ready'))).toBe(true);
    const deleting = obj('2', 1, 'Ready');
    deleting.metadata!.deletionTimestamp = new Date(0);
    expect(metaOrSpecChanged(deleting, obj('1', 1, 'Ready'))).toBe(true);
  });
});

describe('Controller.watch filter', () => {
  it('drops updates the filter refuses and keeps adds', () => {
    const ctl = new Controller({ name: 'watch-filter-test', reconcile: async () => undefined });
    const keys: string[] = [];
    ctl.enqueue = (k: string) => void keys.push(k);
    const { informer, fire } = handlersOf();
    ctl.watch(informer, undefined, { filter: metaOrSpecChanged });
    fire.update(obj('2', 1, 'Ready'), obj('1', 1, 'Pending'));
    expect(keys).toEqual([]);
    fire.update(obj('3', 2, 'Ready'), obj('2', 1, 'Ready'));
    fire.add(obj('1', 1, ''));
    expect(keys).toEqual(['ns/a', 'ns/a']);
  });
});

describe('AWS flags', () => {
  it('parses rate-limit overrides, including off', () => {
    expect(parseRateLimitOverrides('elbv2.mutate=10/20, ec2.describe=off')).toEqual({
      elbv2: { mutate: { ratePerSecond: 10, burst: 20 } },
      ec2: { describe: false },
    });
    expect(parseRateLimitOverrides('')).toEqual({});
  });
  it('names the bad entry', () => {
    expect(() => parseRateLimitOverrides('elb.mutate=1/2')).toThrow(/"elb.mutate=1\/2": unknown service "elb"/);
    expect(() => parseRateLimitOverrides('ec2.write=1/2')).toThrow(/expected <service>/);
    expect(() => parseRateLimitOverrides('ec2.mutate=0/2')).toThrow(/rate must be above 0/);
  });
  it('validates through parseConfig and turns into client options', () => {
    expect(() => parseConfig(awsFlags, ['--aws-rate-limits=ec2.mutate=x'], {})).toThrow(/--aws-rate-limits/);
    expect(() => parseConfig(awsFlags, ['--aws-role-arn=role'], {})).toThrow(/IAM role ARN/);
    const cfg = parseConfig(awsFlags, [], { AWS_ROLE_ARN: 'arn:aws-cn:iam::123456789012:role/ops', AWS_RATE_LIMITS: 'autoscaling.mutate=1/1' });
    expect(awsClientOptions(cfg)).toEqual({ roleArn: 'arn:aws-cn:iam::123456789012:role/ops', rateLimits: { autoscaling: { mutate: { ratePerSecond: 1, burst: 1 } } } });
    expect(awsClientOptions(parseConfig(awsFlags, [], {}))).toEqual({});
  });
});

describe('metric helpers', () => {
  it('return the same collector for the same name', async () => {
    const a = counter({ name: 'kube_iaas_test_helper_total', help: 'test', labelNames: ['kind'] as const });
    const b = counter({ name: 'kube_iaas_test_helper_total', help: 'test', labelNames: ['kind'] as const });
    expect(b).toBe(a);
    a.inc({ kind: 'x' });
    const text = await metricsRegistry.getSingleMetricAsString('kube_iaas_test_helper_total');
    expect(text).toContain('kube_iaas_test_helper_total{kind="x"} 1');
  });
});
