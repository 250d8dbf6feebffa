import { describe, expect, it } from 'vitest';
import { checkHost, checkPod, hostAddLines, hostDelLines, nftAddScript, podAddLines, type Attachment } from '../../src/node/wiring.ts';

const a: Attachment = {
  containerId: 'c1', podKey: 'ns/p', netns: '/run/netns/p', ifName: 'eth0', hostVeth: 'eni0123456789a', hostMac: '02:11:22:33:44:55',
  ip: '192.168.193.51', routeTable: 2, mtu: 9001, snatTo: '192.168.193.194', noSnat: ['192.168.192.0/22', '10.0.0.0/8'],
};

describe('wiring plan (article §4.3)', () => {
  it('host side: veth with the pod end in its netns, /32 route, to-pod rule, from-pod rules to the VPC (and excluded CIDRs) into the ENI table', () => {
    expect(hostAddLines(a)).toEqual([
      'link add eni0123456789a address 02:11:22:33:44:55 mtu 9001 type veth peer name eth0 mtu 9001 netns /run/netns/p',
      'link set eni0123456789a up',
      'route replace 192.168.193.51/32 dev eni0123456789a scope link',
      'rule add to 192.168.193.51/32 lookup main priority 512',
      'rule add from 192.168.193.51/32 to 192.168.192.0/22 lookup 2 priority 1536',
      'rule add from 192.168.193.51/32 to 10.0.0.0/8 lookup 2 priority 1536',
    ]);
    expect(hostAddLines({ ...a, routeTable: 254 }).some((l) => l.startsWith('rule add from'))).toBe(false);
  });

  it('pod side: /32, link route to 169.254.1.1, default through it, permanent neighbour with the host MAC', () => {
    expect(podAddLines(a)).toEqual([
      'addr add 192.168.193.51/32 dev eth0',
      'link set eth0 up',
      'route add 169.254.1.1 dev eth0 scope link',
      'route add default via 169.254.1.1 dev eth0',
      'neigh replace 169.254.1.1 lladdr 02:11:22:33:44:55 dev eth0 nud permanent',
    ]);
  });

  it('SNAT to the primary address except towards the VPC and excluded CIDRs, tagged with the container ID', () => {
    expect(nftAddScript(a)).toContain('ip saddr 192.168.193.51 ip daddr != { 192.168.192.0/22, 10.0.0.0/8 } fib daddr type != local snat to 192.168.193.194 random comment "cni:c1"');
  });

  it('DEL undoes each piece; without a known address only the veth', () => {
    expect(hostDelLines(a)).toEqual([
      'link del eni0123456789a',
      'route del 192.168.193.51/32 dev eni0123456789a',
      'rule del to 192.168.193.51/32 lookup main priority 512',
      'rule del from 192.168.193.51/32 priority 1536',
      'rule del from 192.168.193.51/32 priority 1536',
    ]);
    expect(hostDelLines({ hostVeth: 'v', ip: '10.0.0.1' }).filter((l) => l.startsWith('rule del from'))).toHaveLength(16);
    expect(hostDelLines({ hostVeth: 'v', ip: '' })).toEqual(['link del v']);
  });

  it('CHECK names what is missing', () => {
    const ok = {
      links: [{ ifname: a.hostVeth, flags: ['UP'] }],
      routes: [{ dst: a.ip, dev: a.hostVeth }],
      rules: [
        { priority: 512, dst: a.ip, table: 'main' },
        { priority: 1536, src: a.ip, dst: '192.168.192.0', dstlen: 22, table: '2' },
        { priority: 1536, src: a.ip, dst: '10.0.0.0', dstlen: 8, table: '2' },
      ],
      snatComments: ['cni:c1'],
    };
    expect(checkHost(a, ok)).toEqual([]);
    expect(checkHost(a, { ...ok, routes: [], snatComments: [] })).toEqual([`host route ${a.ip}/32 dev ${a.hostVeth}`, `SNAT rule for ${a.ip} in ip kube-iaas-eni pod-snat`]);
    expect(checkHost(a, { ...ok, rules: ok.rules.slice(0, 2) })).toEqual([`rule from ${a.ip}/32 to 10.0.0.0/8 lookup 2 priority 1536`]);
    const pod = {
      addrs: [{ ifname: 'eth0', addr_info: [{ family: 'inet', local: a.ip, prefixlen: 32 }] }],
      routes: [{ dst: '169.254.1.1', scope: 'link' }, { dst: 'default', gateway: '169.254.1.1' }],
      neigh: [{ dst: '169.254.1.1', lladdr: a.hostMac, state: ['PERMANENT'] }],
    };
    expect(checkPod(a, pod)).toEqual([]);
    expect(checkPod(a, { ...pod, neigh: [] })).toEqual([`pod neighbour 169.254.1.1 lladdr ${a.hostMac} permanent`]);
  });
});
