import { describe, expect, it } from 'vitest';
import {
  formatFieldErrors,
  validateApplicationLoadBalancerSpec,
  validateAwsVolumeSpec,
  validateEniPoolSpec,
  validateNetworkLoadBalancerSpec,
  validateNodeGroupSpec,
} from '../../src/index.ts';
import type { KindName, SpecValidator } from '../../src/index.ts';
import { CATEGORY_TEXT, FIXTURES, albGood, awsVolumeGood, nlbGood } from '../fixtures.ts';

const VALIDATORS: Record<KindName, SpecValidator<unknown>> = {
  AwsVolume: validateAwsVolumeSpec,
  EniPool: validateEniPoolSpec,
  NetworkLoadBalancer: validateNetworkLoadBalancerSpec,
  ApplicationLoadBalancer: validateApplicationLoadBalancerSpec,
  NodeGroup: validateNodeGroupSpec,
};

describe.each(FIXTURES.map((f) => [f.kind, f] as const))('%s validator', (kind, fixture) => {
  const validate = VALIDATORS[kind];

  it('has at least one bad case of each required category', () => {
    for (const c of ['type', 'required', 'range', 'enum', 'cel'] as const) {
      expect(fixture.bad.some((b) => b.category === c), `${kind} lacks a ${c} case`).toBe(true);
    }
  });

  it.each(fixture.good.map((g) => [g.name, g.spec] as const))('accepts %s', (_name, spec) => {
    const r = validate(spec);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it.each(fixture.bad.map((b) => [b.name, b] as const))('rejects %s, naming the field', (_name, bad) => {
    const r = validate(bad.spec);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.errors.find((e) => e.path === bad.path);
    expect(hit, `no error at ${bad.path}; got ${formatFieldErrors(r.errors)}`).toBeDefined();
    expect(hit?.message).toMatch(CATEGORY_TEXT[bad.category]);
    if (bad.message) expect(hit?.message).toContain(bad.message);
  });
});

describe('validator behaviour', () => {
  it('returns a defaulted copy and leaves the input alone', () => {
    const input = { sizeGiB: 30, availabilityZone: 'cn-northwest-1a' };
    const r = validateAwsVolumeSpec(input);
    expect(r.ok && r.value).toEqual({
      sizeGiB: 30,
      availabilityZone: 'cn-northwest-1a',
      volumeType: 'gp3',
      encrypted: false,
      fsType: 'ext4',
      reclaimPolicy: 'Delete',
    });
    expect(input).toEqual({ sizeGiB: 30, availabilityZone: 'cn-northwest-1a' });
  });

  it('applies nested defaults under a defaulted object, as the API server does', () => {
    const r = validateNetworkLoadBalancerSpec({ serviceRef: { name: 'web' }, listeners: [{ port: 80 }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.scheme).toBe('internal');
    expect(r.value.listeners[0]?.protocol).toBe('TCP');
    expect(r.value.healthCheck).toEqual({
      protocol: 'TCP',
      intervalSeconds: 10,
      timeoutSeconds: 10,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
    });
    const ng = validateNodeGroupSpec({ asgName: 'a' });
    expect(ng.ok && ng.value.scaleDown).toEqual({ enabled: true, utilizationThreshold: 0.5, unneededSeconds: 600 });
  });

  it('evaluates CEL twins on defaulted values (volumeType defaults to gp3)', () => {
    const r = validateAwsVolumeSpec({ ...awsVolumeGood, volumeType: undefined, iops: 20000, sizeGiB: 100 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.message).join()).toContain('for volumeType gp3');
  });

  it('refuses unknown fields, as kubectl apply does with strict field validation', () => {
    const r = validateNetworkLoadBalancerSpec({ ...nlbGood, listners: [] });
    expect(!r.ok && r.errors).toEqual([{ path: 'spec.listners', message: 'unknown field (not declared in the schema)' }]);
  });

  it('reports every structural error at once, with array indexes in the path', () => {
    const r = validateApplicationLoadBalancerSpec({
      ...albGood,
      listeners: [{ port: 0 }, { port: 80, protocol: 'FTP' }],
    });
    expect(!r.ok && r.errors.map((e) => e.path).sort()).toEqual(['spec.listeners[0].port', 'spec.listeners[1].protocol']);
  });

  it('names map entries by key, and tells numeric map keys from array indexes', () => {
    const r = validateNodeGroupSpec({ asgName: 'a', nodeTemplate: { resources: { memory: true } } });
    expect(!r.ok && r.errors[0]?.path).toBe('spec.nodeTemplate.resources.memory');
    const t = validateAwsVolumeSpec({ ...awsVolumeGood, tags: { '0': 'x'.repeat(300) } });
    expect(!t.ok && t.errors[0]?.path).toBe('spec.tags.0');
  });

  it('rejects a missing or non-object spec', () => {
    expect(validateEniPoolSpec(undefined)).toEqual({ ok: false, errors: [{ path: 'spec', message: 'Required value' }] });
    const r = validateEniPoolSpec('c5.large');
    expect(!r.ok && r.errors[0]).toMatchObject({ path: 'spec', message: expect.stringMatching(/must be of type object/) });
  });

  it('accepts quantities as integers or strings', () => {
    expect(validateNodeGroupSpec({ asgName: 'a', nodeTemplate: { resources: { cpu: 2, memory: '3800Mi', pods: '29' } } }).ok).toBe(true);
    expect(validateNodeGroupSpec({ asgName: 'a', nodeTemplate: { resources: { cpu: 1.5 } } }).ok).toBe(false);
  });

  it('formats errors for events and conditions', () => {
    expect(
      formatFieldErrors([
        { path: 'spec.a', message: 'Required value' },
        { path: 'spec.b', message: 'bad' },
      ]),
    ).toBe('spec.a: Required value; spec.b: bad');
  });

  it('words duplicates like the API server', () => {
    const r = validateNetworkLoadBalancerSpec({ ...nlbGood, listeners: [{ port: 80, targetPort: 30080 }, { port: 80, protocol: 'UDP', targetPort: 30081 }] });
    expect(!r.ok && r.errors).toEqual([{ path: 'spec.listeners[1]', message: 'Duplicate value: {"port":80}' }]);
  });

  it('checks IPv6 CIDRs too', () => {
    expect(validateNetworkLoadBalancerSpec({ ...nlbGood, sourceRanges: ['2001:db8::/32'] }).ok).toBe(true);
    expect(validateNetworkLoadBalancerSpec({ ...nlbGood, sourceRanges: ['2001:db8::/129'] }).ok).toBe(false);
  });
});
