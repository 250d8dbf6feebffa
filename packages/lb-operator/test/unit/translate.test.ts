import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS, LOAD_BALANCER_CLASS } from '../../src/constants.ts';
import { formatTranslateErrors, parseKeyValues, selectService, translateService } from '../../src/translate/index.ts';

function svc(opts: { annotations?: Record<string, string>; cls?: string; type?: string; ports?: V1Service['spec'] extends infer S ? S extends { ports?: infer P } ? P : never : never; sourceRanges?: string[] } = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes-bootcamp-v1', namespace: 'default', uid: 'svc-uid-1', annotations: opts.annotations ?? { [ANNOTATIONS.type]: 'nlb' } },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      ...(opts.cls ? { loadBalancerClass: opts.cls } : {}),
      ports: opts.ports ?? [{ port: 8080, protocol: 'TCP', targetPort: 8080, nodePort: 31905 }],
      ...(opts.sourceRanges ? { loadBalancerSourceRanges: opts.sourceRanges } : {}),
    },
  };
}

function ok(s: V1Service) {
  const r = translateService(s);
  if (!r.ok) throw new Error(formatTranslateErrors(r.errors));
  return r;
}

function errors(s: V1Service) {
  const r = translateService(s);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('selectService', () => {
  it('selects the article annotation without a class', () => {
    expect(selectService(svc())).toBe('annotation');
  });
  it('selects our loadBalancerClass', () => {
    expect(selectService(svc({ annotations: {}, cls: LOAD_BALANCER_CLASS }))).toBe('class');
  });
  it('leaves other classes alone even with the annotation', () => {
    expect(selectService(svc({ cls: 'service.k8s.aws/nlb' }))).toBeUndefined();
  });
  it('leaves Services without annotation or class alone', () => {
    expect(selectService(svc({ annotations: {} }))).toBeUndefined();
    expect(selectService(svc({ annotations: { [ANNOTATIONS.type]: 'external' } }))).toBeUndefined();
  });
  it('leaves non-LoadBalancer Services alone', () => {
    expect(selectService(svc({ type: 'NodePort' }))).toBeUndefined();
  });
});

describe('translateService: the article', () => {
  it('turns kubernetes-bootcamp-v1 into an internet-facing NLB with one TCP listener on 8080 → NodePort', () => {
    const { resource } = ok(svc());
    expect(resource.metadata.name).toBe('kubernetes-bootcamp-v1');
    expect(resource.metadata.namespace).toBe('default');
    expect(resource.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'kubernetes-bootcamp-v1', uid: 'svc-uid-1', controller: true, blockOwnerDeletion: true },
    ]);
    expect(resource.spec.scheme).toBe('internet-facing');
    expect(resource.spec.serviceRef).toEqual({ name: 'kubernetes-bootcamp-v1' });
    expect(resource.spec.listeners).toEqual([{ port: 8080, protocol: 'TCP', targetPort: 31905 }]);
    // schema defaults applied, as the API server would store them
    expect(resource.spec.ipAddressType).toBe('ipv4');
    expect(resource.spec.healthCheck).toMatchObject({ protocol: 'TCP', intervalSeconds: 10, healthyThreshold: 3 });
  });
});

describe('translateService: scheme', () => {
  it('defaults to internal for our class', () => {
    expect(ok(svc({ annotations: {}, cls: LOAD_BALANCER_CLASS })).resource.spec.scheme).toBe('internal');
  });
  it('reads aws-load-balancer-scheme', () => {
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.scheme]: 'internal' } })).resource.spec.scheme).toBe('internal');
    expect(ok(svc({ annotations: { [ANNOTATIONS.scheme]: 'internet-facing' }, cls: LOAD_BALANCER_CLASS })).resource.spec.scheme).toBe('internet-facing');
  });
  it('reads the legacy aws-load-balancer-internal', () => {
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.internal]: 'true' } })).resource.spec.scheme).toBe('internal');
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.internal]: '0.0.0.0/0' } })).resource.spec.scheme).toBe('internal');
    expect(ok(svc({ annotations: { [ANNOTATIONS.internal]: 'false' }, cls: LOAD_BALANCER_CLASS })).resource.spec.scheme).toBe('internet-facing');
  });
  it('lets the scheme annotation win over the legacy one', () => {
    const s = svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.internal]: 'true', [ANNOTATIONS.scheme]: 'internet-facing' } });
    expect(ok(s).resource.spec.scheme).toBe('internet-facing');
  });
  it('names the annotation for an unknown scheme', () => {
    const e = errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.scheme]: 'public' } }));
    expect(e).toHaveLength(1);
    expect(e[0]?.field).toBe(ANNOTATIONS.scheme);
    expect(e[0]?.message).toContain('Unsupported value: "public"');
  });
  it('names the legacy annotation for a bad value', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.internal]: 'maybe' } }))[0]?.field).toBe(ANNOTATIONS.internal);
  });
});

describe('translateService: ports', () => {
  it('makes one listener per port, sorted, with names', () => {
    const r = ok(svc({ ports: [{ name: 'https', port: 443, protocol: 'TCP', nodePort: 30443 }, { name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }));
    expect(r.resource.spec.listeners.map((l) => [l.name, l.port, l.targetPort])).toEqual([['http', 80, 30080], ['https', 443, 30443]]);
  });
  it('makes UDP listeners, and TCP+UDP on one port a TCP_UDP listener', () => {
    const r = ok(svc({ ports: [{ name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 }, { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 'q', port: 99, protocol: 'UDP', nodePort: 30099 }] }));
    expect(r.resource.spec.listeners.map((l) => [l.port, l.protocol])).toEqual([[53, 'TCP_UDP'], [99, 'UDP']]);
  });
  it('refuses TCP+UDP on one port with different NodePorts', () => {
    const e = errors(svc({ ports: [{ port: 53, protocol: 'TCP', nodePort: 30053 }, { port: 53, protocol: 'UDP', nodePort: 30054 }] }));
    expect(e[0]?.field).toBe('spec.ports[1].nodePort');
  });
  it('refuses a port without a NodePort, naming the field', () => {
    const e = errors(svc({ ports: [{ port: 8080, protocol: 'TCP' }] }));
    expect(e[0]?.field).toBe('spec.ports[0].nodePort');
  });
  it('refuses SCTP', () => {
    expect(errors(svc({ ports: [{ port: 9, protocol: 'SCTP', nodePort: 30009 }] }))[0]?.field).toBe('spec.ports[0].protocol');
  });
  it('refuses more listeners than an NLB allows', () => {
    const ports = Array.from({ length: 51 }, (_, i) => ({ port: 1000 + i, protocol: 'TCP', nodePort: 30000 + i }));
    const e = errors(svc({ ports }));
    expect(e[0]?.field).toBe('spec.ports');
    expect(e[0]?.message).toContain('at most 50');
  });
});

describe('translateService: TLS', () => {
  const cert = 'arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc';
  it('makes every port TLS when only ssl-cert is given', () => {
    const r = ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sslCert]: cert } }));
    expect(r.resource.spec.listeners[0]).toMatchObject({ protocol: 'TLS', certificateArns: [cert], targetProtocol: 'TCP' });
  });
  it('limits TLS to ssl-ports (by name or number) and carries the policy and backend protocol', () => {
    const r = ok(
      svc({
        annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sslCert]: cert, [ANNOTATIONS.sslPorts]: 'https', [ANNOTATIONS.sslNegotiationPolicy]: 'ELBSecurityPolicy-TLS13-1-2-2021-06', [ANNOTATIONS.backendProtocol]: 'ssl' },
        ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }, { name: 'https', port: 443, protocol: 'TCP', nodePort: 30443 }],
      }),
    );
    expect(r.resource.spec.listeners.map((l) => l.protocol)).toEqual(['TCP', 'TLS']);
    expect(r.resource.spec.listeners[1]).toMatchObject({ sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', targetProtocol: 'TLS' });
  });
  it('names ssl-ports when it lists a port that does not exist', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sslCert]: cert, [ANNOTATIONS.sslPorts]: '8443' } }))[0]?.field).toBe(ANNOTATIONS.sslPorts);
  });
  it('names ssl-ports without ssl-cert', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sslPorts]: '443' } }))[0]?.field).toBe(ANNOTATIONS.sslPorts);
  });
  it('names ssl-cert when a certificate is not an ARN', () => {
    const e = errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sslCert]: 'my-cert' } }));
    expect(e[0]?.field).toBe(ANNOTATIONS.sslCert);
  });
});

describe('translateService: health checks', () => {
  it('reads every healthcheck annotation', () => {
    const r = ok(
      svc({
        annotations: {
          [ANNOTATIONS.type]: 'nlb',
          [ANNOTATIONS.healthcheckProtocol]: 'http',
          [ANNOTATIONS.healthcheckPort]: '10256',
          [ANNOTATIONS.healthcheckPath]: '/healthz',
          [ANNOTATIONS.healthcheckInterval]: '30',
          [ANNOTATIONS.healthcheckTimeout]: '6',
          [ANNOTATIONS.healthcheckHealthyThreshold]: '2',
          [ANNOTATIONS.healthcheckUnhealthyThreshold]: '4',
          [ANNOTATIONS.healthcheckSuccessCodes]: '200-399',
        },
      }),
    );
    expect(r.resource.spec.healthCheck).toEqual({ protocol: 'HTTP', port: 10256, path: '/healthz', intervalSeconds: 30, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 4, successCodes: '200-399' });
  });
  it('accepts traffic-port', () => {
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.healthcheckPort]: 'traffic-port' } })).resource.spec.healthCheck?.port).toBeUndefined();
  });
  it('names the annotation for out-of-range and non-numeric values', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.healthcheckInterval]: '1' } }))[0]?.field).toBe(ANNOTATIONS.healthcheckInterval);
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.healthcheckInterval]: 'often' } }))[0]?.field).toBe(ANNOTATIONS.healthcheckInterval);
  });
  it('names the path annotation for a path on a TCP check', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.healthcheckPath]: '/x' } }))[0]?.field).toBe(ANNOTATIONS.healthcheckPath);
  });
});

describe('translateService: attributes, targets, ranges, tags', () => {
  it('reads attributes, cross-zone, target group attributes and proxy protocol', () => {
    const r = ok(
      svc({
        annotations: {
          [ANNOTATIONS.type]: 'nlb',
          [ANNOTATIONS.attributes]: 'deletion_protection.enabled=true, load_balancing.cross_zone.enabled=false',
          [ANNOTATIONS.crossZone]: 'true',
          [ANNOTATIONS.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=30',
          [ANNOTATIONS.proxyProtocol]: '*',
        },
      }),
    );
    expect(r.resource.spec.attributes).toEqual({ 'deletion_protection.enabled': 'true', 'load_balancing.cross_zone.enabled': 'true' });
    expect(r.resource.spec.targetGroupAttributes).toEqual({ 'deregistration_delay.timeout_seconds': '30', 'proxy_protocol_v2.enabled': 'true' });
  });
  it('names a malformed attributes annotation', () => {
    const e = errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.attributes]: 'deletion_protection.enabled' } }));
    expect(e[0]?.field).toBe(ANNOTATIONS.attributes);
    expect(e[0]?.message).toContain('key=value');
  });
  it('names a bad proxy-protocol value', () => {
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.proxyProtocol]: 'yes' } }))[0]?.field).toBe(ANNOTATIONS.proxyProtocol);
  });
  it('reads target-node-labels into a node selector', () => {
    const r = ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.targetNodeLabels]: 'role=edge,zone=a' } }));
    expect(r.resource.spec.targets).toEqual({ nodeSelector: { role: 'edge', zone: 'a' } });
  });
  it('prefers spec.loadBalancerSourceRanges over the annotation, and names the field for a bad CIDR', () => {
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sourceRanges]: '10.0.0.0/8' }, sourceRanges: ['1.2.3.0/24'] })).resource.spec.sourceRanges).toEqual(['1.2.3.0/24']);
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sourceRanges]: '10.0.0.0/8, 172.16.0.0/12' } })).resource.spec.sourceRanges).toEqual(['10.0.0.0/8', '172.16.0.0/12']);
    expect(errors(svc({ sourceRanges: ['not-a-cidr'] }))[0]?.field).toBe('spec.loadBalancerSourceRanges');
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.sourceRanges]: '10.0.0.0/33' } }))[0]?.field).toBe(ANNOTATIONS.sourceRanges);
  });
  it('reads additional tags and refuses reserved keys, naming the annotation', () => {
    expect(ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.additionalResourceTags]: 'team=web,env=prod' } })).resource.spec.additionalTags).toEqual({ team: 'web', env: 'prod' });
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.additionalResourceTags]: 'kubernetes.io/cluster/x=owned' } }))[0]?.field).toBe(ANNOTATIONS.additionalResourceTags);
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.additionalResourceTags]: 'team' } }))[0]?.field).toBe(ANNOTATIONS.additionalResourceTags);
  });
  it('reads subnets, ip address type and name', () => {
    const r = ok(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.subnets]: 'subnet-a, public-b', [ANNOTATIONS.ipAddressType]: 'dualstack', [ANNOTATIONS.name]: 'bootcamp' } }));
    expect(r.resource.spec).toMatchObject({ subnets: ['subnet-a', 'public-b'], ipAddressType: 'dualstack', loadBalancerName: 'bootcamp' });
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.ipAddressType]: 'ipv6' } }))[0]?.field).toBe(ANNOTATIONS.ipAddressType);
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.name]: 'internal-x' } }))[0]?.field).toBe(ANNOTATIONS.name);
  });
  it('reports every problem at once', () => {
    const e = errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.attributes]: 'x', [ANNOTATIONS.healthcheckTimeout]: 'y' } }));
    expect(e.map((x) => x.field).sort()).toEqual([ANNOTATIONS.attributes, ANNOTATIONS.healthcheckTimeout].sort());
  });
  it('reports malformed annotations and schema errors together, each under its own annotation (issue 22, #11)', () => {
    const e = errors(
      svc({
        annotations: {
          [ANNOTATIONS.type]: 'nlb',
          [ANNOTATIONS.scheme]: 'public',
          [ANNOTATIONS.attributes]: 'deletion_protection.enabled',
          [ANNOTATIONS.healthcheckInterval]: '1',
          [ANNOTATIONS.alpnPolicy]: 'HTTP3',
          [ANNOTATIONS.sslCert]: 'arn:aws:acm:cn-northwest-1:123456789012:certificate/x',
        },
      }),
    );
    expect(e.map((x) => x.field).sort()).toEqual([ANNOTATIONS.alpnPolicy, ANNOTATIONS.attributes, ANNOTATIONS.healthcheckInterval, ANNOTATIONS.scheme].sort());
    expect(e.find((x) => x.field === ANNOTATIONS.scheme)?.message).toContain('Unsupported value: "public"');
  });
  it('does not repeat a port problem as a schema error on spec.listeners', () => {
    const e = errors(svc({ ports: [{ port: 8080, protocol: 'SCTP', targetPort: 8080, nodePort: 31905 }] }));
    expect(e.map((x) => x.field)).toEqual(['spec.ports[0].protocol']);
  });
  it('checks attribute keys and values against what AWS documents, naming the annotation and the key (issue 22, #8)', () => {
    const e = errors(
      svc({
        annotations: {
          [ANNOTATIONS.type]: 'nlb',
          [ANNOTATIONS.attributes]: 'a=b=c, deletion_protection.enabled=yes, load_balancing.cross_zone.enabled=true',
          [ANNOTATIONS.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=forever, stickiness.type=lb_cookie',
        },
      }),
    );
    const starts = ['unknown Network Load Balancer attribute "a"', 'deletion_protection.enabled="yes": must be', 'deregistration_delay.timeout_seconds="forever": must be', 'stickiness.type="lb_cookie": must be one of "source_ip"'];
    expect(e.map((x) => x.field)).toEqual([ANNOTATIONS.attributes, ANNOTATIONS.attributes, ANNOTATIONS.targetGroupAttributes, ANNOTATIONS.targetGroupAttributes]);
    e.forEach((x, i) => expect(x.message.startsWith(starts[i] ?? '?')).toBe(true));
    // An ALB attribute is not an NLB one.
    expect(errors(svc({ annotations: { [ANNOTATIONS.type]: 'nlb', [ANNOTATIONS.attributes]: 'idle_timeout.timeout_seconds=60' } }))[0]?.field).toBe(ANNOTATIONS.attributes);
    const r = ok(
      svc({
        annotations: {
          [ANNOTATIONS.type]: 'nlb',
          [ANNOTATIONS.attributes]: 'dns_record.client_routing_policy=availability_zone_affinity,access_logs.s3.enabled=true,access_logs.s3.bucket=my-logs',
          [ANNOTATIONS.targetGroupAttributes]: 'target_group_health.dns_failover.minimum_healthy_targets.count=off,preserve_client_ip.enabled=true',
        },
      }),
    );
    expect(Object.keys(r.resource.spec.attributes ?? {})).toHaveLength(3);
    expect(Object.keys(r.resource.spec.targetGroupAttributes ?? {})).toHaveLength(2);
  });
});

describe('parseKeyValues', () => {
  it('parses pairs and refuses duplicates', () => {
    expect(parseKeyValues('a=1, b=')).toEqual({ ok: true, value: { a: '1', b: '' } });
    expect(parseKeyValues('a=1,a=2').ok).toBe(false);
  });
});
