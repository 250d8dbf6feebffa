import { describe, expect, it } from 'vitest';
import { answer } from '../../src/node/agent/server.ts';
import type { ViewSource } from '../../src/node/agent/sources.ts';
import { decide, eniTableLines, waitMessage, type NodeView } from '../../src/node/agent/view.ts';

const ann = (ip: string, eni: string, di: number): Record<string, string> => ({
  'network.kube-iaas.dev/ip': ip, 'network.kube-iaas.dev/eni': eni, 'network.kube-iaas.dev/device-index': String(di), 'network.kube-iaas.dev/route-table': String(di ? di + 1 : 254),
});
const view: NodeView = {
  nodeName: 'n1', primaryIp: '192.168.193.194', vpcCidrs: ['192.168.192.0/22'],
  enis: [
    { eniId: 'eni-a', deviceIndex: 0, subnetCidr: '192.168.193.0/24', secondaryIps: ['192.168.193.10'] },
    { eniId: 'eni-b', deviceIndex: 1, macAddress: '02:00:00:00:00:01', subnetCidr: '192.168.193.0/24', secondaryIps: ['192.168.193.51'] },
  ],
  conditions: [{ type: 'Ready', status: 'False', reason: 'AddressLimitReached', message: '27/27 in use' }],
  pods: { 'ns/a': ann('192.168.193.10', 'eni-a', 0), 'ns/b': ann('192.168.193.51', 'eni-b', 1), 'ns/x': ann('192.168.193.99', 'eni-a', 0), 'ns/t': { ...ann('192.168.193.51', 'eni-b', 1), 'network.kube-iaas.dev/route-table': '7' } },
};

describe('node agent decisions', () => {
  it('grants what the pool holds, with the table of the ENI', () => {
    expect(decide(view, 'ns/a', () => undefined)).toMatchObject({ kind: 'grant', grant: { ip: '192.168.193.10', routeTable: 254, primaryIp: '192.168.193.194' } });
    expect(decide(view, 'ns/b', () => undefined)).toMatchObject({ kind: 'grant', grant: { ip: '192.168.193.51', routeTable: 2, deviceIndex: 1 } });
    expect(eniTableLines(view.enis[1]!, 'eth1')).toEqual(['route replace 192.168.193.1 dev eth1 scope link table 2', 'route replace default via 192.168.193.1 dev eth1 table 2']);
  });

  it('refuses by name an address outside the pool, a table that contradicts the ENI, an ENI without link', () => {
    expect(decide(view, 'ns/x', () => undefined)).toMatchObject({ kind: 'refused', msg: expect.stringMatching(/pod ns\/x: .*192\.168\.193\.99 is not in node n1's pool/) });
    expect(decide(view, 'ns/t', () => undefined)).toMatchObject({ kind: 'refused', msg: expect.stringContaining('route-table 7 does not match eni-b') });
    expect(decide(view, 'ns/b', () => 'ENI eni-b has no link')).toMatchObject({ kind: 'refused', msg: 'pod ns/b: ENI eni-b has no link' });
    expect(decide(view, 'ns/none', () => undefined)).toEqual({ kind: 'wait' });
  });

  it('waits for a grant, bounded, and then quotes the pool condition', async () => {
    let current: NodeView = { ...view, pods: {} };
    const listeners: (() => void)[] = [];
    const source: ViewSource = {
      current: () => current,
      onChange: (cb) => {
        listeners.push(cb);
        return () => listeners.splice(listeners.indexOf(cb), 1);
      },
      stop: () => {},
    };
    const deps = { source, linkProblem: () => undefined, maxWaitMs: 10_000 };
    const pending = answer(deps, { op: 'grant', namespace: 'ns', name: 'a', waitMs: 5000 });
    current = view;
    for (const l of [...listeners]) l();
    await expect(pending).resolves.toMatchObject({ ok: true, grant: { ip: '192.168.193.10' } });
    expect(listeners).toHaveLength(0);
    const timedOut = await answer(deps, { op: 'grant', namespace: 'ns', name: 'late', waitMs: 20 });
    expect(timedOut).toMatchObject({ ok: false, code: 101, msg: expect.stringContaining('pool n1: Ready=False/AddressLimitReached: 27/27 in use') });
    expect(waitMessage(undefined, 'ns/p', 30_000)).toBe('pod ns/p: no address granted within 30 s; pool this node: no condition reported');
  });
});

describe('node agent sources', () => {
  it('reads the annotation names of the operator', async () => {
    const c = await import('../../src/constants.ts');
    const v = await import('../../src/node/agent/view.ts');
    expect([v.ANN_IP, v.ANN_ENI, v.ANN_DEVICE_INDEX, v.ANN_ROUTE_TABLE]).toEqual([c.IP_ANNOTATION, c.ENI_ANNOTATION, c.DEVICE_INDEX_ANNOTATION, c.ROUTE_TABLE_ANNOTATION]);
  });

  it('builds the view from the node\'s pods and EniPool', async () => {
    const { viewOf } = await import('../../src/node/agent/kube-source.ts');
    const v = viewOf({ nodeName: 'n1', vpcCidrs: ['192.168.192.0/22'] }, [{ metadata: { namespace: 'ns', name: 'a', annotations: ann('192.168.193.10', 'eni-a', 0) } }], {
      status: { enis: view.enis.map((e) => (e.deviceIndex === 0 ? { ...e, primaryIp: '192.168.193.194' } : e)), conditions: view.conditions },
    });
    expect(v.primaryIp).toBe('192.168.193.194');
    expect(decide(v, 'ns/a', () => undefined)).toMatchObject({ kind: 'grant', grant: { ip: '192.168.193.10', primaryIp: '192.168.193.194' } });
    expect(viewOf({ nodeName: 'n1', vpcCidrs: [], primaryIp: '10.0.0.1' }, [], undefined)).toMatchObject({ primaryIp: '10.0.0.1', enis: [], pods: {} });
  });
});
