import { describe, expect, it } from 'vitest';
import { elbName, nameHash, namePart } from '../../src/names.ts';

// Pinned: a change here renames every load balancer and target group the operators already made.
describe('ELB names', () => {
  const parts = ['int32bit-kubernetes', 'Default_NS.long-namespace', 'kubernetes-bootcamp-v1', 'u-1', 'internet-facing'];
  it('keeps the k8s-<a≤8>-<b≤8>-<hash10> shape and value', () => {
    expect(elbName('Default_NS.long-namespace', 'kubernetes-bootcamp-v1', parts)).toBe('k8s-default-kubernet-b519311837');
  });
  it('cleans parts without leaving hyphens at the ends', () => {
    expect(namePart('--A__b..c--', 40)).toBe('a-b-c');
    expect(namePart('abcdefg-hij', 8)).toBe('abcdefg');
  });
  it('hashes the parts joined by NUL, not concatenated', () => {
    expect(nameHash(['ab', 'c'])).not.toBe(nameHash(['a', 'bc']));
    expect(nameHash(parts)).toHaveLength(10);
  });
  it('never exceeds 32 characters', () => {
    expect(elbName('x'.repeat(100), 'y'.repeat(100), ['z']).length).toBeLessThanOrEqual(32);
  });
});
