import { describe, expect, it } from 'vitest';
import {
  OWNER_TAG,
  TAG_KEY_MAX_LENGTH,
  TAG_VALUE_MAX_LENGTH,
  TagLimitError,
  assertCreateTags,
  assertMutable,
  assertTagLimits,
  boundedTagValue,
  ingressTags,
  isAbbreviatedTagValue,
  isOwnedBy,
  matchesOwner,
  nodeTemplateTags,
  ownedByOwnerFilters,
  ownedTags,
  ownerTagValue,
  serviceOf,
  serviceTags,
  tagLimitProblems,
  taggedOwner,
  targetGroupTags,
  type OwnerRef,
} from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
const long = (n: number, c = 'a') => c.repeat(n);
/** The case: a 253-character name in a namespace, as an ALB of that Ingress. */
const alb: OwnerRef = { kind: 'ApplicationLoadBalancer', namespace: 'team-a', name: long(253), uid: 'u-1' };
const allWithin = (tags: Record<string, string>) => Object.entries(tags).every(([k, v]) => k.length <= 128 && v.length <= 256);

describe('boundedTagValue', () => {
  it('keeps a value of exactly 256 characters and shortens one of 257 to 256', () => {
    expect(TAG_VALUE_MAX_LENGTH).toBe(256);
    const at = long(256);
    expect(boundedTagValue(at)).toBe(at);
    expect(isAbbreviatedTagValue(at)).toBe(false);
    const over = boundedTagValue(long(257));
    expect(over).toHaveLength(256);
    expect(over.startsWith(long(239))).toBe(true);
    expect(over).toMatch(/@[0-9a-f]{16}$/);
    expect(isAbbreviatedTagValue(over)).toBe(true);
  });

  it('is deterministic and tells apart long values that share their first 239 characters', () => {
    const a = `${long(250)}-one`;
    const b = `${long(250)}-two`;
    expect(boundedTagValue(a)).toBe(boundedTagValue(a));
    expect(boundedTagValue(a)).not.toBe(boundedTagValue(b));
  });

  it('counts characters as AWS does (code points)', () => {
    const v = '€'.repeat(256);
    expect(boundedTagValue(v)).toBe(v);
    expect([...boundedTagValue('€'.repeat(257))]).toHaveLength(256);
  });
});

describe('tag limits at the edges', () => {
  it('accepts a key of 128 and a value of 256; names a key of 129 and a value of 257', () => {
    expect(TAG_KEY_MAX_LENGTH).toBe(128);
    expect(tagLimitProblems({ [long(128, 'k')]: long(256) })).toEqual([]);
    const problems = tagLimitProblems({ [long(129, 'k')]: 'x', team: long(257) });
    expect(problems.map((p) => p.key)).toEqual([long(129, 'k'), 'team']);
    expect(problems[0]?.message).toContain('129 characters; AWS allows 128');
    expect(problems[1]?.message).toBe('value of tag team is 257 characters; AWS allows 256');
  });

  it('assertTagLimits names the field the user tags came from', () => {
    expect(() => assertTagLimits({ team: long(257) }, 'alb.ingress.kubernetes.io/tags')).toThrow(/^alb\.ingress\.kubernetes\.io\/tags: value of tag team is 257 characters/);
    expect(() => assertTagLimits({ team: long(256) }, 'spec.tags')).not.toThrow();
  });

  it('ownedTags refuses a user tag over the limits instead of cutting it', () => {
    expect(() => ownedTags(cluster, alb, { team: long(257) })).toThrow(TagLimitError);
    expect(() => ownedTags(cluster, alb, { [long(129)]: 'x' })).toThrow(TagLimitError);
    expect(ownedTags(cluster, alb, { [long(128)]: long(256) })[long(128)]).toBe(long(256));
  });

  it('nodeTemplateTags refuses a label whose tag key would pass 128 characters', () => {
    expect(() => nodeTemplateTags({ labels: { [`example.com/${long(80)}`]: 'x' } })).toThrow(/node template: tag key/);
  });
});

describe('owner tags of a 253-character name', () => {
  it('every key and value ownedTags writes, with the per-kind extras, is within the limits', () => {
    const tags = ownedTags(cluster, alb, { ...ingressTags({ namespace: 'team-a', name: long(253) }), ...targetGroupTags({ namespace: 'team-a', name: long(63) }, 'http') });
    expect(allWithin(tags)).toBe(true);
    expect(tags[OWNER_TAG]).toBe(ownerTagValue(alb));
    expect(tags[OWNER_TAG]).toHaveLength(256);
    expect(tags['kube-iaas.dev/ingress']).toHaveLength(256);
    expect(tags['kube-iaas.dev/owner-uid']).toBe('u-1');
  });

  it('the builder and every matcher agree on the shortened value', () => {
    const tags = ownedTags(cluster, alb);
    expect(isOwnedBy(tags, cluster, alb)).toBe(true);
    expect(matchesOwner(cluster, alb, { byUid: true })(tags)).toBe(true);
    expect(ownedByOwnerFilters(cluster, alb).find((f) => f.Name === `tag:${OWNER_TAG}`)?.Values).toEqual([tags[OWNER_TAG]]);
    expect(() => assertCreateTags('load balancer', tags, { cluster, owner: alb })).not.toThrow();
    const resource = { id: 'arn:x', tags: { ...tags, 'kubernetes.io/cluster/int32bit-kubernetes': 'owned' } };
    expect(() => assertMutable(resource, { cluster, change: 'any', owner: alb, mustBeOurs: true })).not.toThrow();
    // Another owner sharing the first 239 characters is not matched.
    const other: OwnerRef = { ...alb, name: `${long(252)}b`, uid: 'u-2' };
    expect(isOwnedBy(tags, cluster, other)).toBe(false);
    expect(matchesOwner(cluster, other)(tags)).toBe(false);
  });

  it('taggedOwner does not guess a name from a shortened value (a guess would look like a deleted owner)', () => {
    expect(taggedOwner(ownedTags(cluster, alb))).toBeUndefined();
    const short: OwnerRef = { ...alb, name: long(249) }; // team-a/ + 249 = 256: stored whole
    expect(taggedOwner(ownedTags(cluster, short))).toEqual({ cluster, kind: alb.kind, namespace: 'team-a', name: long(249), uid: 'u-1' });
    expect(serviceOf(serviceTags({ namespace: 'team-a', name: long(253) }))).toBeUndefined();
  });
});
