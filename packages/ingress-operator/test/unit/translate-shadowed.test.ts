// Issue #22, defect 10: a member with the same path and group.order as another breaks and is fixed;
// its stale copy of the path must not stay on the ALB behind the live rule (it could never match).
import { describe, expect, it } from 'vitest';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { ingress, path, translateAll } from './fixtures.ts';

const annotations = (extra: Record<string, string> = {}) => ({
  'kubernetes.io/ingress.class': 'alb',
  'alb.ingress.kubernetes.io/group.name': 'shop',
  'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}]',
  ...extra,
});
const member = (name: string, svc: string, broken = false) =>
  ingress(name, { annotations: annotations(broken ? { 'alb.ingress.kubernetes.io/scheme': 'public' } : {}), paths: [path('/shared', svc)] });
const shared = (alb: ApplicationLoadBalancer | undefined) =>
  (alb?.spec.rules ?? []).filter((r) => r.paths?.includes('/shared')).map((r) => ({ member: r.ingressName, priority: r.priority, tg: r.action.forward?.targetGroups?.[0]?.name }));

describe('carried rules shadowed by a live member (same path, same group.order)', () => {
  it('after the winning member breaks and is fixed, only its rule holds the path', () => {
    let alb = translateAll([member('a', 'kubernetes-bootcamp-v1'), member('b', 'kubernetes-bootcamp-v2')]).resource;
    expect(shared(alb)).toEqual([{ member: 'a', priority: 10, tg: 'kubernetes-bootcamp-v1-8080' }]);

    // a breaks: it keeps its rule; b's rule for the same path could never match behind it, so it is not added.
    const broken = translateAll([member('a', 'kubernetes-bootcamp-v1', true), member('b', 'kubernetes-bootcamp-v2')], alb);
    expect(broken.members.map((m) => m.applied)).toEqual([false, true]);
    alb = broken.resource;
    expect(shared(alb)).toEqual([{ member: 'a', priority: 10, tg: 'kubernetes-bootcamp-v1-8080' }]);

    // a is fixed: b is in conflict again, and nothing of b's is carried behind a's rule.
    const fixed = translateAll([member('a', 'kubernetes-bootcamp-v1'), member('b', 'kubernetes-bootcamp-v2')], alb);
    expect(fixed.members[1]?.errors.map((e) => e.field)).toEqual(['spec.rules[0].http.paths[0]']);
    expect(shared(fixed.resource)).toEqual([{ member: 'a', priority: 10, tg: 'kubernetes-bootcamp-v1-8080' }]);
  });

  it('a rule kept from earlier is not left in front of a live member that now wins the path', () => {
    const before = translateAll([member('b', 'kubernetes-bootcamp-v2')]).resource;
    expect(shared(before)).toEqual([{ member: 'b', priority: 10, tg: 'kubernetes-bootcamp-v2-8080' }]);
    const r = translateAll([member('a', 'kubernetes-bootcamp-v1'), member('b', 'kubernetes-bootcamp-v2')], before);
    expect(shared(r.resource)).toEqual([{ member: 'a', priority: 10, tg: 'kubernetes-bootcamp-v1-8080' }]);
  });

  it('a broken member still keeps a path no live member ahead of it declares', () => {
    const good = translateAll([member('a', 'kubernetes-bootcamp-v1'), ingress('z', { annotations: annotations(), paths: [path('/other', 'kubernetes-bootcamp-v2')] })]).resource;
    const r = translateAll([member('a', 'kubernetes-bootcamp-v1', true), ingress('z', { annotations: annotations(), paths: [path('/other', 'kubernetes-bootcamp-v2')] })], good);
    expect(shared(r.resource)).toEqual(shared(good));
  });
});
