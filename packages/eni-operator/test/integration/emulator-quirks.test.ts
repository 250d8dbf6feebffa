// The moto workarounds stay out of the production path: with --no-aws-emulator-quirks (as against real
// AWS) a pool that grows by new ENIs makes no DescribeNetworkInterfaces of its subnets (the checks for
// moto's repeated addresses). The operator's EC2 calls pass through a relay that only counts them.
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import { resources } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ENI_POOL_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, waitFor, type Clients } from './harness.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');

let c: Clients;
let relay: Server | undefined;
let relayUrl = '';
/** DescribeNetworkInterfaces filtered by subnet, the call the moto checks make. */
let subnetDescribes = 0;

const pool = (name: string) => c.kube.get<EniPool>(ENI_POOL_RESOURCE, name);

beforeAll(async () => {
  c = clients();
  const target = new URL(testbedEnv().awsEndpoint);
  relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString();
      if (text.includes('Action=DescribeNetworkInterfaces') && /Filter\.\d+\.Name=subnet-id/.test(text)) subnetDescribes++;
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => relay!.listen(0, '127.0.0.1', () => r()));
  const addr = relay.address();
  relayUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(() => {
  relay?.close();
});

describe('eni-operator: emulator workarounds only behind --aws-emulator-quirks', () => {
  it('with it off, growing a pool by new ENIs makes no DescribeNetworkInterfaces of the subnet', async () => {
    const instanceId = account.instanceIds[0]!;
    const node = await waitFor('node', async () => (await c.kube.list<V1Node>(resources.Node)).items.find((n) => n.spec?.providerID?.endsWith(`/${instanceId}`)));
    const name = node.metadata!.name!;
    // The SDK prefers the per-service variable, so only EC2 goes through the relay.
    process.env.AWS_ENDPOINT_URL_EC2 = relayUrl;
    let op: OperatorProcess | undefined;
    try {
      op = await OperatorProcess.start(['--no-aws-emulator-quirks', '--leaked-eni-sweep-interval=0', '--cooldown=1s']);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_EC2;
    }
    try {
      const before = await waitFor(`pool ${name} at one ENI`, async () => {
        const p = await pool(name);
        return p?.status?.summary?.enis === 1 && p.status.capacity?.podAddresses ? p : undefined;
      }, 90_000, 500);
      subnetDescribes = 0;
      await c.kube.patch(ENI_POOL_RESOURCE, { name }, { spec: { minimumIp: before.status!.capacity!.podAddresses } });
      const grown = await waitFor(`pool ${name} grown by new ENIs`, async () => {
        const p = await pool(name);
        return (p?.status?.summary?.enis ?? 0) > 1 && p?.status?.summary?.addresses === p?.status?.capacity?.podAddresses ? p : undefined;
      }, 90_000, 500);
      expect(grown.status!.summary!.enis).toBeGreaterThan(1);
      expect(subnetDescribes).toBe(0);
    } finally {
      await c.kube.patch(ENI_POOL_RESOURCE, { name }, { spec: { minimumIp: null } }).catch(() => undefined);
      await waitFor(`pool ${name} back to one ENI`, async () => (await pool(name))?.status?.summary?.enis === 1, 90_000, 500).catch(() => undefined);
      await op.stop();
    }
  });
});
