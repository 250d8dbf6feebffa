// A broken sole member keeps its ALB as it was: rules and group settings (scheme) are carried over, so
// the ALB is not replaced by a default internal one while the Ingress is being fixed.
import { describe, expect, it } from 'vitest';
import { ingress, translateAll, translated } from './fixtures.ts';

describe('broken member keeps its previous group settings', () => {
  it('internet-facing stays internet-facing when listen-ports becomes invalid', () => {
    const good = translated([ingress('bootcamp')]);
    expect(good.spec.scheme).toBe('internet-facing');
    const broken = ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/scheme': 'internet-facing', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080' } });
    const r = translateAll([broken], good);
    expect(r.members[0]?.applied).toBe(false);
    expect(r.resource?.spec).toEqual(good.spec);
  });
  it('an invalid scheme keeps the previous scheme and rules', () => {
    const good = translated([ingress('bootcamp')]);
    const broken = ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/scheme': 'public', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080}]' } });
    const r = translateAll([broken], good);
    expect(r.members[0]?.errors.map((e) => e.field)).toContain('alb.ingress.kubernetes.io/scheme');
    expect(r.resource?.spec).toEqual(good.spec);
  });
  it('a healthy member removing the scheme annotation does go back to internal', () => {
    const good = translated([ingress('bootcamp')]);
    const r = translateAll([ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18080}]' } })], good);
    expect(r.resource?.spec.scheme).toBe('internal');
  });
});
