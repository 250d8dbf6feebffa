import { describe, expect, it } from 'vitest';
import { ANNOTATION_PREFIX } from '../../src/constants.ts';
import { checkDefaults, classOf, parametersRef, withClassDefaults } from '../../src/translate/class-defaults.ts';
import type { IngressClassLike, IngressLike } from '../../src/translate/types.ts';

const cls = (name: string, extra: Partial<IngressClassLike> = {}): IngressClassLike => ({ metadata: { name }, spec: { controller: 'kube-iaas.dev/alb' }, ...extra });
const params = { apiGroup: '', kind: 'ConfigMap', name: 'alb-defaults', namespace: 'kube-system', scope: 'Namespace' };

describe('IngressClass defaults', () => {
  it('finds the class an Ingress was selected through', () => {
    const classes = [cls('alb'), cls('alb-public', { metadata: { name: 'alb-public' }, spec: { controller: 'kube-iaas.dev/alb', parameters: params } }), { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } }];
    expect(classOf({ spec: { ingressClassName: 'alb-public' } }, classes)?.metadata?.name).toBe('alb-public');
    expect(classOf({ metadata: { annotations: { 'kubernetes.io/ingress.class': 'alb' } } }, classes)?.metadata?.name).toBe('alb');
    expect(classOf({ spec: { ingressClassName: 'nginx' } }, classes)).toBeUndefined();
  });

  it('accepts only a namespaced ConfigMap as parameters, naming the class', () => {
    expect(parametersRef(cls('a'))).toBeUndefined();
    expect(parametersRef(cls('a', { spec: { controller: 'x', parameters: params } }))).toEqual({ ok: true, namespace: 'kube-system', name: 'alb-defaults' });
    const crd = parametersRef(cls('a', { spec: { controller: 'x', parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'p' } } }));
    expect(crd).toMatchObject({ ok: false, message: expect.stringMatching(/IngressClass a spec.parameters: elbv2.k8s.aws\/IngressClassParams is not supported/) });
    const cluster = parametersRef(cls('a', { spec: { controller: 'x', parameters: { ...params, scope: 'Cluster' } } }));
    expect(cluster).toMatchObject({ ok: false, message: expect.stringMatching(/scope: Namespace/) });
  });

  it('names unknown keys', () => {
    const known = new Set([`${ANNOTATION_PREFIX}scheme`]);
    expect(checkDefaults({ scheme: 'internet-facing' }, known, 'ConfigMap x/y')).toEqual([]);
    expect(checkDefaults({ schema: 'internet-facing' }, known, 'ConfigMap x/y')).toEqual([expect.stringMatching(/ConfigMap x\/y: unknown key "schema"/)]);
  });

  it('lets the Ingress annotation win over the class default', () => {
    const ing: IngressLike = { metadata: { name: 'a', annotations: { [`${ANNOTATION_PREFIX}scheme`]: 'internal' } } };
    const merged = withClassDefaults(ing, { scheme: 'internet-facing', 'inbound-cidrs': '10.0.0.0/8' });
    expect(merged.metadata?.annotations).toEqual({ [`${ANNOTATION_PREFIX}scheme`]: 'internal', [`${ANNOTATION_PREFIX}inbound-cidrs`]: '10.0.0.0/8' });
    expect(ing.metadata?.annotations).toEqual({ [`${ANNOTATION_PREFIX}scheme`]: 'internal' });
    expect(withClassDefaults(ing, undefined)).toBe(ing);
  });
});
