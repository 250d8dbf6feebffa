import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/constants.ts';
import { assignPriorities, groupIngresses, parseListenPorts, pathPatterns, selectIngress, targetGroupKey } from '../../src/translate/index.ts';
import { CLASSES, SERVICES, ingress, memberErrors, path, service, translateAll, translated } from './fixtures.ts';

const A = (k: keyof typeof ANNOTATIONS) => ANNOTATIONS[k];

describe('selectIngress', () => {
  it('selects the legacy annotation kubernetes.io/ingress.class: alb', () => {
    expect(selectIngress(ingress('a'), CLASSES)).toBe('annotation');
  });
  it('selects an IngressClass whose controller is kube-iaas.dev/alb', () => {
    expect(selectIngress(ingress('a', { annotations: {}, className: 'alb' }), CLASSES)).toBe('class');
  });
  it('leaves other classes and other annotation values alone', () => {
    expect(selectIngress(ingress('a', { annotations: {}, className: 'nginx' }), CLASSES)).toBeUndefined();
    expect(selectIngress(ingress('a', { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }), CLASSES)).toBeUndefined();
    expect(selectIngress(ingress('a', { annotations: {} }), CLASSES)).toBeUndefined();
  });
  it('selects Ingresses without a class when our IngressClass is the default', () => {
    const classes = [{ metadata: { name: 'alb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'kube-iaas.dev/alb' } }];
    expect(selectIngress(ingress('a', { annotations: {} }), classes)).toBe('default-class');
  });
});

describe('parsers', () => {
  it('reads listen-ports JSON', () => {
    expect(parseListenPorts('[{"HTTP": 18080}]')).toEqual({ ok: true, value: [{ protocol: 'HTTP', port: 18080 }] });
    expect(parseListenPorts('[{"HTTPS": 443}, {"HTTP": 80}]')).toEqual({ ok: true, value: [{ protocol: 'HTTP', port: 80 }, { protocol: 'HTTPS', port: 443 }] });
  });
  it('maps pathType to path-pattern values', () => {
    expect(pathPatterns('Prefix', '/v1')).toEqual({ ok: true, value: ['/v1', '/v1/*'] });
    expect(pathPatterns('Prefix', '/v1/')).toEqual({ ok: true, value: ['/v1', '/v1/*'] });
    expect(pathPatterns('Prefix', '/')).toEqual({ ok: true, value: ['/*'] });
    expect(pathPatterns('Exact', '/v1')).toEqual({ ok: true, value: ['/v1'] });
    expect(pathPatterns('ImplementationSpecific', '/v1*')).toEqual({ ok: true, value: ['/v1*'] });
  });
  it('names target groups after (Service, port) and keeps long names within 63 characters', () => {
    expect(targetGroupKey('kubernetes-bootcamp-v1', 8080)).toBe('kubernetes-bootcamp-v1-8080');
    expect(targetGroupKey('x'.repeat(70), 8080).length).toBeLessThanOrEqual(63);
  });
});

describe('the article Ingress (§6)', () => {
  const alb = translated([ingress('bootcamp')]);
  it('is one ApplicationLoadBalancer named after the Ingress and owned by it', () => {
    expect(alb.metadata.name).toBe('bootcamp');
    expect(alb.metadata.namespace).toBe('default');
    expect(alb.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Ingress', name: 'bootcamp', uid: 'uid-bootcamp' })]);
    expect(alb.spec.scheme).toBe('internet-facing');
  });
  it('has exactly one listener, HTTP on 18080, with a 404 default', () => {
    expect(alb.spec.listeners).toHaveLength(1);
    expect(alb.spec.listeners[0]).toMatchObject({ port: 18080, protocol: 'HTTP', defaultAction: { type: 'fixed-response', fixedResponse: { statusCode: 404 } } });
  });
  it('has two rules with host-header and path-pattern conditions, each to its own target group', () => {
    expect(alb.spec.rules).toEqual([
      { listenerPort: 18080, priority: 10, ingressName: 'bootcamp', hosts: ['test.int32bit.me'], paths: ['/v1', '/v1/*'], action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v1-8080', weight: 1 }] } } },
      { listenerPort: 18080, priority: 20, ingressName: 'bootcamp', hosts: ['test.int32bit.me'], paths: ['/v2', '/v2/*'], action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v2-8080', weight: 1 }] } } },
    ]);
  });
  it('has two instance target groups on the right NodePorts', () => {
    expect(alb.spec.targetGroups?.map((t) => [t.name, t.targetType, t.targetPort, t.serviceRef])).toEqual([
      ['kubernetes-bootcamp-v1-8080', 'instance', 31001, { name: 'kubernetes-bootcamp-v1', port: 8080 }],
      ['kubernetes-bootcamp-v2-8080', 'instance', 31002, { name: 'kubernetes-bootcamp-v2', port: 8080 }],
    ]);
  });
  it('is internal without the scheme annotation', () => {
    const ing = ingress('bootcamp', { annotations: { 'kubernetes.io/ingress.class': 'alb' } });
    const r = translated([ing]);
    expect(r.spec.scheme).toBe('internal');
    expect(r.spec.listeners.map((l) => l.port)).toEqual([80]);
  });
  it('adding /v3 adds exactly one rule and one target group and changes nothing else', () => {
    const withV3 = ingress('bootcamp', { paths: [path('/v1', 'kubernetes-bootcamp-v1'), path('/v3', 'kubernetes-bootcamp-v3'), path('/v2', 'kubernetes-bootcamp-v2')] });
    const next = translated([withV3], alb);
    const before = alb.spec.rules ?? [];
    const after = next.spec.rules ?? [];
    expect(after).toHaveLength(3);
    for (const r of before) expect(after).toContainEqual(r);
    const added = after.filter((r) => !before.some((b) => b.priority === r.priority));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ paths: ['/v3', '/v3/*'], priority: 15 });
    expect(next.spec.targetGroups?.map((t) => t.name)).toEqual(['kubernetes-bootcamp-v1-8080', 'kubernetes-bootcamp-v2-8080', 'kubernetes-bootcamp-v3-8080']);
    expect(next.spec.listeners).toEqual(alb.spec.listeners);
  });
  it('removing /v1 keeps /v2 at its priority', () => {
    const next = translated([ingress('bootcamp', { paths: [path('/v2', 'kubernetes-bootcamp-v2')] })], alb);
    expect(next.spec.rules?.map((r) => [r.paths?.[0], r.priority])).toEqual([['/v2', 20]]);
  });
  it('uses spec.defaultBackend as the listener default', () => {
    const ing = ingress('bootcamp');
    ing.spec = { ...ing.spec, defaultBackend: { service: { name: 'kubernetes-bootcamp-v3', port: { number: 8080 } } } };
    const r = translated([ing]);
    expect(r.spec.listeners[0]?.defaultAction).toEqual({ type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v3-8080', weight: 1 }] } });
  });
  it('resolves a named Service port', () => {
    const r = translated([ingress('bootcamp', { paths: [path('/v1', 'kubernetes-bootcamp-v1', 'Exact', { name: 'http' })] })]);
    expect(r.spec.rules?.[0]?.paths).toEqual(['/v1']);
    expect(r.spec.targetGroups?.[0]?.targetPort).toBe(31001);
  });
});

describe('annotations', () => {
  const base = { 'kubernetes.io/ingress.class': 'alb' };
  it('reads every group and target-group annotation', () => {
    const r = translated([
      ingress('a', {
        annotations: {
          ...base,
          [A('scheme')]: 'internal',
          [A('listenPorts')]: '[{"HTTP": 80}, {"HTTPS": 443}]',
          [A('certificateArn')]: 'arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc',
          [A('sslPolicy')]: 'ELBSecurityPolicy-2016-08',
          [A('sslRedirect')]: '443',
          [A('subnets')]: 'subnet-a, subnet-b',
          [A('securityGroups')]: 'sg-1',
          [A('manageBackendSecurityGroupRules')]: 'false',
          [A('inboundCidrs')]: '10.0.0.0/8',
          [A('tags')]: 'team=web,env=test',
          [A('loadBalancerAttributes')]: 'idle_timeout.timeout_seconds=120',
          [A('targetGroupAttributes')]: 'deregistration_delay.timeout_seconds=30',
          [A('healthcheckPath')]: '/healthz',
          [A('healthcheckInterval')]: '20',
          [A('healthcheckTimeout')]: '6',
          [A('healthyThreshold')]: '3',
          [A('unhealthyThreshold')]: '4',
          [A('successCodes')]: '200-299',
          [A('backendProtocol')]: 'HTTP',
          [A('targetType')]: 'instance',
        },
      }),
    ]);
    expect(r.spec).toMatchObject({
      scheme: 'internal',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      manageBackendSecurityGroupRules: false,
      inboundCidrs: ['10.0.0.0/8'],
      sslRedirectPort: 443,
      additionalTags: { team: 'web', env: 'test' },
      attributes: { 'idle_timeout.timeout_seconds': '120' },
    });
    expect(r.spec.listeners.map((l) => [l.port, l.protocol, l.certificateArns, l.sslPolicy])).toEqual([
      [80, 'HTTP', undefined, undefined],
      [443, 'HTTPS', ['arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc'], 'ELBSecurityPolicy-2016-08'],
    ]);
    // Rules go on the HTTPS listener only; HTTP redirects.
    expect(new Set(r.spec.rules?.map((x) => x.listenerPort))).toEqual(new Set([443]));
    expect(r.spec.targetGroups?.[0]).toMatchObject({
      protocol: 'HTTP',
      attributes: { 'deregistration_delay.timeout_seconds': '30' },
      healthCheck: { path: '/healthz', intervalSeconds: 20, timeoutSeconds: 6, healthyThreshold: 3, unhealthyThreshold: 4, successCodes: '200-299' },
    });
  });
  it('turns actions.<name> into fixed-response and redirect rules', () => {
    const r = translated([
      ingress('a', {
        annotations: {
          ...base,
          'alb.ingress.kubernetes.io/actions.gone': '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"410","messageBody":"gone"}}',
          'alb.ingress.kubernetes.io/actions.moved': '{"type":"redirect","redirectConfig":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}',
        },
        paths: [path('/old', 'gone', 'Prefix', { name: 'use-annotation' }), path('/moved', 'moved', 'Prefix', { name: 'use-annotation' })],
      }),
    ]);
    expect(r.spec.rules?.map((x) => x.action)).toEqual([
      { type: 'fixed-response', fixedResponse: { statusCode: 410, contentType: 'text/plain', messageBody: 'gone' } },
      { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } },
    ]);
    expect(r.spec.targetGroups).toEqual([]);
  });
});

describe('bad input names the annotation or field', () => {
  const base = { 'kubernetes.io/ingress.class': 'alb' };
  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    ['invalid listen-ports JSON', { [A('listenPorts')]: '[{"HTTP": 18080}' }, A('listenPorts'), /invalid JSON/],
    ['listen-ports with an unknown protocol', { [A('listenPorts')]: '[{"TCP": 80}]' }, A('listenPorts'), /not HTTP or HTTPS/],
    ['an unknown scheme', { [A('scheme')]: 'public' }, A('scheme'), /internet-facing, internal/],
    ['target-type ip', { [A('targetType')]: 'ip' }, A('targetType'), /ip is not supported yet/],
    ['an unsupported target-type', { [A('targetType')]: 'lambda' }, A('targetType'), /unsupported value/],
    ['a non-numeric health check interval', { [A('healthcheckInterval')]: 'often' }, A('healthcheckInterval'), /not a whole number/],
    ['a malformed tags list', { [A('tags')]: 'team' }, A('tags'), /key=value/],
    ['an HTTPS port without certificate', { [A('listenPorts')]: '[{"HTTPS": 443}]' }, A('certificateArn'), /needs a certificate/],
    ['ssl-redirect to a port that is not HTTPS', { [A('sslRedirect')]: '443' }, A('sslRedirect'), /not an HTTPS port/],
    ['an invalid group.name', { [A('groupName')]: 'Not_A_Label' }, A('groupName'), /DNS label/],
    ['a group.order out of range', { [A('groupOrder')]: '5000' }, A('groupOrder'), /outside/],
    ['a bad actions JSON', { 'alb.ingress.kubernetes.io/actions.x': '{"type":"forward"}' }, 'alb.ingress.kubernetes.io/actions.x', /not supported yet/],
  ];
  for (const [what, annotations, field, message] of cases) {
    it(what, () => {
      const errs = memberErrors(ingress('a', { annotations: { ...base, ...annotations } }));
      expect(errs).toContainEqual({ field, message: expect.stringMatching(message) });
    });
  }
  it('a health check timeout not below the interval (CRD validation) names the health-check annotations', () => {
    const errs = memberErrors(ingress('a', { annotations: { ...base, [A('healthcheckInterval')]: '5', [A('healthcheckTimeout')]: '10' } }));
    expect(errs).toContainEqual({ field: 'alb.ingress.kubernetes.io/healthcheck-*', message: expect.stringMatching(/timeoutSeconds/) });
  });
  it('a missing backend Service', () => {
    const errs = memberErrors(ingress('a', { paths: [path('/x', 'nope')] }));
    expect(errs).toEqual([{ field: 'spec.rules[0].http.paths[0].backend.service.name', message: expect.stringMatching(/does not exist/) }]);
  });
  it('a ClusterIP backend Service', () => {
    const errs = memberErrors(ingress('a'), [service('kubernetes-bootcamp-v1', 31001, { type: 'ClusterIP' }), SERVICES[1] as (typeof SERVICES)[number]]);
    expect(errs).toEqual([{ field: 'spec.rules[0].http.paths[0].backend.service.name', message: expect.stringMatching(/ClusterIP.*NodePort or LoadBalancer/) }]);
  });
  it('a port name that does not exist', () => {
    const errs = memberErrors(ingress('a', { paths: [path('/x', 'kubernetes-bootcamp-v1', 'Prefix', { name: 'grpc' })] }));
    expect(errs).toEqual([{ field: 'spec.rules[0].http.paths[0].backend.service.port.name', message: expect.stringMatching(/no port named "grpc"/) }]);
  });
  it('a port number that does not exist', () => {
    const errs = memberErrors(ingress('a', { paths: [path('/x', 'kubernetes-bootcamp-v1', 'Prefix', { number: 9090 })] }));
    expect(errs).toEqual([{ field: 'spec.rules[0].http.paths[0].backend.service.port.number', message: expect.stringMatching(/no port 9090/) }]);
  });
  it('use-annotation without the actions annotation', () => {
    const errs = memberErrors(ingress('a', { paths: [path('/x', 'gone', 'Prefix', { name: 'use-annotation' })] }));
    expect(errs[0]?.field).toBe('alb.ingress.kubernetes.io/actions.gone');
  });
  it('an unknown pathType', () => {
    const errs = memberErrors(ingress('a', { paths: [path('/x', 'kubernetes-bootcamp-v1', 'Regex')] }));
    expect(errs[0]?.field).toBe('spec.rules[0].http.paths[0].pathType');
  });
  it('a group of one that is broken produces no resource', () => {
    const r = translateAll([ingress('a', { annotations: { ...base, [A('scheme')]: 'public' } })]);
    expect(r.resource).toBeUndefined();
    expect(r.members[0]?.applied).toBe(false);
  });
});

describe('Ingress groups', () => {
  const grouped = (name: string, order: number | undefined, paths: ReturnType<typeof path>[], extra: Record<string, string> = {}) =>
    ingress(name, {
      annotations: {
        'kubernetes.io/ingress.class': 'alb',
        [A('scheme')]: 'internet-facing',
        [A('listenPorts')]: '[{"HTTP": 18080}]',
        [A('groupName')]: 'bootcamp',
        ...(order !== undefined ? { [A('groupOrder')]: String(order) } : {}),
        ...extra,
      },
      paths,
    });
  const v1 = grouped('team-b', 20, [path('/v1', 'kubernetes-bootcamp-v1')]);
  const v2 = grouped('team-a', 10, [path('/v2', 'kubernetes-bootcamp-v2')]);

  it('groups by namespace and group.name, members in group.order then name', () => {
    const groups = groupIngresses([v1, v2, ingress('solo')], CLASSES);
    expect([...groups.keys()].sort()).toEqual(['default/bootcamp', 'default/solo']);
    expect(groups.get('default/bootcamp')?.members.map((m) => m.metadata?.name)).toEqual(['team-a', 'team-b']);
  });
  it('two Ingresses share one ALB, each an owner, rules in merge order', () => {
    const alb = translated([v1, v2]);
    expect(alb.metadata.name).toBe('bootcamp');
    expect(alb.spec.groupName).toBe('bootcamp');
    expect(alb.spec.ingresses).toEqual([{ name: 'team-a', order: 10 }, { name: 'team-b', order: 20 }]);
    expect(alb.metadata.ownerReferences?.map((o) => [o.name, o.controller])).toEqual([['team-a', false], ['team-b', false]]);
    expect(alb.spec.rules?.map((r) => [r.ingressName, r.priority, r.paths?.[0]])).toEqual([['team-a', 10, '/v2'], ['team-b', 20, '/v1']]);
    expect(alb.spec.listeners).toHaveLength(1);
    expect(alb.spec.targetGroups).toHaveLength(2);
  });
  it('one leaving removes only its rules and target groups', () => {
    const before = translated([v1, v2]);
    const after = translated([v1, { ...v2, metadata: { ...v2.metadata, deletionTimestamp: new Date('2026-11-27T00:00:00Z') } }], before);
    expect(after.spec.rules).toEqual(before.spec.rules?.filter((r) => r.ingressName === 'team-b'));
    expect(after.spec.targetGroups?.map((t) => t.name)).toEqual(['kubernetes-bootcamp-v1-8080']);
    expect(after.metadata.ownerReferences?.map((o) => o.name)).toEqual(['team-b']);
  });
  it('a broken member does not block the group and keeps what it had', () => {
    const before = translated([v1, v2]);
    const brokenV2 = grouped('team-a', 10, [path('/v2', 'kubernetes-bootcamp-v2'), path('/x', 'missing')]);
    const v1b = grouped('team-b', 20, [path('/v1', 'kubernetes-bootcamp-v1'), path('/v3', 'kubernetes-bootcamp-v3')]);
    const r = translateAll([v1b, brokenV2], before);
    expect(r.members).toEqual([
      { name: 'team-a', applied: false, errors: [{ field: 'spec.rules[0].http.paths[1].backend.service.name', message: expect.stringMatching(/missing/) }] },
      { name: 'team-b', applied: true, errors: [] },
    ]);
    const rules = r.resource?.spec.rules ?? [];
    // team-b's new path is applied; team-a's previous rule stays as it was; its broken path is not there.
    expect(rules.map((x) => [x.ingressName, x.paths?.[0], x.priority])).toEqual([['team-a', '/v2', 10], ['team-b', '/v1', 20], ['team-b', '/v3', 30]]);
    expect(r.resource?.spec.targetGroups?.map((t) => t.name)).toEqual(['kubernetes-bootcamp-v1-8080', 'kubernetes-bootcamp-v2-8080', 'kubernetes-bootcamp-v3-8080']);
  });
  it('a new broken member with nothing before adds nothing', () => {
    const r = translateAll([v1, grouped('team-c', 30, [path('/c', 'kubernetes-bootcamp-v1')], { [A('targetType')]: 'ip' })]);
    expect(r.members.find((m) => m.name === 'team-c')?.errors[0]?.field).toBe(A('targetType'));
    expect(r.resource?.spec.rules?.map((x) => x.ingressName)).toEqual(['team-b']);
  });
  it('same group.order and conflicting rules: the later member (by name) is left out with an error naming the path', () => {
    const a = grouped('x-a', 0, [path('/v1', 'kubernetes-bootcamp-v1')]);
    const b = grouped('x-b', 0, [path('/v1', 'kubernetes-bootcamp-v2')]);
    const r = translateAll([b, a]);
    expect(r.members.find((m) => m.name === 'x-b')).toEqual({ name: 'x-b', applied: false, errors: [{ field: 'spec.rules[0].http.paths[0]', message: expect.stringMatching(/same alb.ingress.kubernetes.io\/group.order/) }] });
    expect(r.resource?.spec.rules?.map((x) => x.ingressName)).toEqual(['x-a']);
  });
  it('a member whose rule the CRD validator refuses is left out, the error naming the rules', () => {
    const bad = ingress('team-c', { host: 'bad_host!', annotations: { 'kubernetes.io/ingress.class': 'alb', [A('scheme')]: 'internet-facing', [A('listenPorts')]: '[{"HTTP": 18080}]', [A('groupName')]: 'bootcamp', [A('groupOrder')]: '5' }, paths: [path('/c', 'kubernetes-bootcamp-v3')] });
    const r = translateAll([v1, v2, bad]);
    expect(r.members.find((m) => m.name === 'team-c')).toMatchObject({ applied: false, errors: [{ field: 'spec.rules', message: expect.stringMatching(/hosts/) }] });
    expect(r.resource?.spec.rules?.map((x) => x.ingressName)).toEqual(['team-a', 'team-b']);
    expect(r.resource?.spec.targetGroups?.map((t) => t.name)).toEqual(['kubernetes-bootcamp-v1-8080', 'kubernetes-bootcamp-v2-8080']);
  });
  it('more rules than an ALB allows: the last member in merge order is left out', () => {
    const many = (name: string, order: number, n: number) => grouped(name, order, Array.from({ length: n }, (_, i) => path(`/${name}/${i}`, 'kubernetes-bootcamp-v1')));
    const r = translateAll([many('m-a', 1, 60), many('m-b', 2, 50)]);
    expect(r.members.map((m) => [m.name, m.applied])).toEqual([['m-a', true], ['m-b', false]]);
    expect(r.members[1]?.errors[0]?.field).toBe('spec.rules');
    expect(r.resource?.spec.rules).toHaveLength(60);
  });
  it('when every member is broken, what was there before stays', () => {
    const before = translated([v1, v2]);
    const r = translateAll([grouped('team-a', 10, [path('/v2', 'gone')]), grouped('team-b', 20, [path('/v1', 'gone')])], before);
    expect(r.members.every((m) => !m.applied)).toBe(true);
    expect(r.resource?.spec.rules).toEqual(before.spec.rules);
    expect(r.resource?.spec.targetGroups).toEqual(before.spec.targetGroups);
  });
  it('members that disagree on a group-wide annotation: the later one is left out, naming the annotation', () => {
    const r = translateAll([v2, grouped('team-b', 20, [path('/v1', 'kubernetes-bootcamp-v1')], { [A('scheme')]: 'internal' })]);
    expect(r.members.find((m) => m.name === 'team-b')?.errors).toEqual([{ field: A('scheme'), message: expect.stringMatching(/conflicts with "internet-facing" from Ingress team-a/) }]);
    expect(r.resource?.spec.scheme).toBe('internet-facing');
  });
});

describe('assignPriorities', () => {
  const rule = (p: string) => ({ rule: { listenerPort: 80, ingressName: 'a', paths: [p], action: { type: 'fixed-response' as const, fixedResponse: { statusCode: 404 } } }, member: 'a', field: '' });
  it('spaces new rules by the stride', () => {
    const list = [rule('/a'), rule('/b'), rule('/c')];
    assignPriorities(list, []);
    expect(list.map((r) => (r as { priority?: number }).priority)).toEqual([10, 20, 30]);
  });
  it('fills a gap without renumbering when neighbours are adjacent', () => {
    const list = [rule('/a'), rule('/new'), rule('/b')];
    assignPriorities(list, [
      { listenerPort: 80, ingressName: 'a', paths: ['/a'], priority: 1, action: { type: 'fixed-response', fixedResponse: { statusCode: 404 } } },
      { listenerPort: 80, ingressName: 'a', paths: ['/b'], priority: 2, action: { type: 'fixed-response', fixedResponse: { statusCode: 404 } } },
    ]);
    expect(list.map((r) => (r as { priority?: number }).priority)).toEqual([1, 3, 2]);
  });
});
