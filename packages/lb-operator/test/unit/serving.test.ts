import { describe, expect, it } from 'vitest';
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { ANNOTATIONS } from '../../src/constants.ts';
import { foreignInstances, serviceHostname, serviceRefConflict, servesService, translateService } from '../../src/translate/index.ts';

function svc(name = 'web', opts: { type?: string; annotations?: Record<string, string>; uid?: string } = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'tenant-a', uid: opts.uid ?? `${name}-uid`, annotations: opts.annotations ?? { [ANNOTATIONS.type]: 'nlb' } },
    spec: { type: opts.type ?? 'LoadBalancer', ports: [{ port: 8080, protocol: 'TCP', targetPort: 8080, nodePort: 31905 }] },
  };
}

/** The CR stage 1 makes for the Service. */
function translated(s: V1Service, dnsName?: string): NetworkLoadBalancer {
  const r = translateService(s);
  if (!r.ok) throw new Error('translation failed');
  return { ...r.resource, ...(dnsName ? { status: { dnsName } } : {}) };
}

function byHand(name: string, serviceRef: string, extra: Partial<NetworkLoadBalancer['metadata']> = {}): NetworkLoadBalancer {
  return {
    apiVersion: 'elb.kube-iaas.dev/v1alpha1',
    kind: 'NetworkLoadBalancer',
    metadata: { name, namespace: 'tenant-a', uid: `${name}-cr-uid`, ...extra },
    spec: { serviceRef: { name: serviceRef }, listeners: [{ port: 8080 }] },
    status: { dnsName: 'hijack-1.elb.example' },
  };
}

describe('which NetworkLoadBalancer serves a Service', () => {
  it('the one the Service controls, with its name', () => {
    const s = svc();
    expect(servesService(translated(s), s)).toBe(true);
    expect(serviceRefConflict(translated(s), s)).toBeUndefined();
  });
  it('a hand-applied one naming a Service we serve is a conflict and never gives the hostname', () => {
    const s = svc();
    const cr = byHand('hijack', 'web');
    expect(servesService(cr, s)).toBe(false);
    expect(serviceRefConflict(cr, s)).toMatch(/^spec\.serviceRef: Service tenant-a\/web is served by the NetworkLoadBalancer it owns/);
    expect(serviceHostname(s, cr)).toBeUndefined();
  });
  it('a forged ownerReference is not enough: the name and the Service UID must match', () => {
    const s = svc();
    const forged = byHand('hijack', 'web', { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'web-uid', controller: true }] });
    expect(serviceRefConflict(forged, s)).toBeDefined();
    const otherUid = { ...translated(s), metadata: { ...translated(s).metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old-uid', controller: true }] } };
    expect(servesService(otherUid, s)).toBe(false);
  });
  it('a Service we do not serve (NodePort, another class) only lends its NodePorts: no conflict, no hostname', () => {
    const nodePort = svc('np', { type: 'NodePort', annotations: {} });
    expect(serviceRefConflict(byHand('mine', 'np'), nodePort)).toBeUndefined();
    expect(serviceHostname(nodePort, byHand('mine', 'np'))).toBeUndefined();
    const other = { ...svc('alb-c'), spec: { ...svc('alb-c').spec, loadBalancerClass: 'service.k8s.aws/nlb' } };
    expect(serviceRefConflict(byHand('mine', 'alb-c'), other)).toBeUndefined();
  });
  it('no Service (yet): no conflict; stage 2 reports the missing NodePorts', () => {
    expect(serviceRefConflict(byHand('mine', 'nope'), undefined)).toBeUndefined();
  });
  it('the hostname comes from the owned CR: kept until known, cleared while it is deleted', () => {
    const s = svc();
    expect(serviceHostname(s, translated(s))).toBeUndefined();
    expect(serviceHostname(s, translated(s, 'web-1.elb.example'))).toBe('web-1.elb.example');
    const deleting = translated(s, 'web-1.elb.example');
    deleting.metadata.deletionTimestamp = new Date() as unknown as NetworkLoadBalancer['metadata']['deletionTimestamp'];
    expect(serviceHostname(s, deleting)).toBeNull();
    expect(serviceHostname(s, undefined)).toBeUndefined();
  });
});

describe('explicit target instances', () => {
  const node = (id: string, labels: Record<string, string> = {}): V1Node => ({ metadata: { name: `n-${id}`, labels }, spec: { providerID: `aws:///cn-northwest-1a/${id}` } });
  const nodes = [node('i-00000aaa'), node('i-00000bbb', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })];
  const withIds = (ids: string[]): NetworkLoadBalancer => ({ ...byHand('mine', 'x'), spec: { listeners: [{ port: 80, targetPort: 30080 }], targets: { instanceIds: ids } } });
  it('may be the instances of Nodes a Service could target', () => {
    expect(foreignInstances(withIds(['i-00000aaa']), nodes)).toBeUndefined();
    expect(foreignInstances(byHand('mine', 'x'), nodes)).toBeUndefined();
  });
  it('may not be other instances of the VPC, nor excluded Nodes, and the field is named', () => {
    expect(foreignInstances(withIds(['i-00000aaa', 'i-00000ccc']), nodes)).toMatch(/^spec\.targets\.instanceIds: i-00000ccc is not the instance of a Node/);
    expect(foreignInstances(withIds(['i-00000bbb', 'i-00000ccc']), nodes)).toMatch(/i-00000bbb, i-00000ccc are not instances/);
  });
});
