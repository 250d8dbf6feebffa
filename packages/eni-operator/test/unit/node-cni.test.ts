import { describe, expect, it } from 'vitest';
import { CniError, ErrorCode, addResult, errorObject, inCidr, parseConf, parseEnv, subnetGateway } from '../../src/node/cni.ts';
import { hostVethMac, hostVethName } from '../../src/node/names.ts';

describe('CNI spec plumbing', () => {
  it('parses the environment and names what is missing', () => {
    const e = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0' });
    expect(e).toMatchObject({ command: 'ADD', podNamespace: 'ns', podName: 'web-0', netns: '/run/netns/p' });
    expect(() => parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' })).toThrow("missing K8S_POD_NAMESPACE (in CNI_ARGS), K8S_POD_NAME (in CNI_ARGS), CNI_NETNS");
    // DEL may come after the netns is gone.
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b' }).netns).toBe('');
    expect(() => parseEnv({ CNI_COMMAND: 'FOO' })).toThrow(/CNI_COMMAND "FOO"/);
  });

  it('parses the configuration with defaults and refuses bad fields by name', () => {
    const c = parseConf(JSON.stringify({ cniVersion: '1.1.0', name: 'k', type: 'kube-iaas-eni' }));
    expect(c).toMatchObject({ mtu: 9001, grantTimeoutSeconds: 30, excludeSnatCidrs: [] });
    expect(() => parseConf('{')).toThrow(CniError);
    expect(() => parseConf(JSON.stringify({ cniVersion: '0.3.1' }))).toThrow(/cniVersion "0.3.1" is not supported/);
    expect(() => parseConf(JSON.stringify({ cniVersion: '1.1.0', excludeSnatCidrs: ['10.0.0.0/33'] }))).toThrow(/excludeSnatCidrs/);
    expect(() => parseConf(JSON.stringify({ cniVersion: '1.1.0', mtu: -1 }))).toThrow(/mtu must be a positive number/);
  });

  it('renders results and error objects as the spec says', () => {
    const r = addResult('1.1.0', { hostVeth: 'eniabc', hostMac: '02:00:00:00:00:01', ifName: 'eth0', netns: '/run/netns/p', ip: '192.168.193.10', mtu: 9001 });
    expect(r.ips).toEqual([{ address: '192.168.193.10/32', gateway: '169.254.1.1', interface: 1 }]);
    expect(r.interfaces[1]).toMatchObject({ name: 'eth0', sandbox: '/run/netns/p' });
    expect(errorObject('1.1.0', new CniError(ErrorCode.grantRefused, 'pod a/b: nope'))).toEqual({ cniVersion: '1.1.0', code: 100, msg: 'pod a/b: nope' });
    expect(errorObject('1.0.0', new Error('boom'))).toMatchObject({ code: ErrorCode.ioFailure, msg: 'boom' });
  });

  it('derives stable names that fit IFNAMSIZ and a locally administered MAC', () => {
    const n = hostVethName('default', 'a-very-long-pod-name-that-goes-on-and-on');
    expect(n).toMatch(/^eni[0-9a-f]{11}$/);
    expect(hostVethName('default', 'x')).toBe(hostVethName('default', 'x'));
    expect(hostVethName('a', 'bc')).not.toBe(hostVethName('ab', 'c'));
    const mac = hostVethMac('default', 'x');
    expect(mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
  });

  it('does CIDR arithmetic for gateways and SNAT exclusions', () => {
    expect(subnetGateway('192.168.193.0/24')).toBe('192.168.193.1');
    expect(subnetGateway('10.1.2.128/25')).toBe('10.1.2.129');
    expect(inCidr('192.168.195.40', '192.168.192.0/22')).toBe(true);
    expect(inCidr('192.168.196.1', '192.168.192.0/22')).toBe(false);
  });
});

describe('plugin without its agent', () => {
  it('STATUS fails with code 50 and ADD with 11 (try again later), naming the socket and the pod', async () => {
    const { cmdAdd, cmdStatus } = await import('../../src/node/commands.ts');
    const conf = parseConf(JSON.stringify({ cniVersion: '1.1.0', agentSocket: '/nonexistent/agent.sock', grantTimeoutSeconds: 1 }));
    await expect(cmdStatus(conf)).rejects.toMatchObject({ code: 50, message: expect.stringContaining('/nonexistent/agent.sock is not reachable') });
    const env = parseEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' });
    await expect(cmdAdd(env, conf)).rejects.toMatchObject({ code: 11, message: expect.stringMatching(/^pod ns\/p: node agent at \/nonexistent\/agent.sock is not reachable/) });
  });
});
