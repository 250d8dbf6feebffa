// A small model and the actual state AWS would hold once it is applied, for the diff and deploy tests.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError, type AwsClients } from '@kube-iaas/core/aws';
import { type OwnerRef } from '@kube-iaas/core/tags';
import { OWN_GROUP, type ActualState, type Model } from '../../src/index.ts';

export const CLUSTER = 'int32bit-kubernetes';
export const ARN = 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:123456789012';
export const owner: OwnerRef = { kind: 'ApplicationLoadBalancer', namespace: 'default', name: 'web', uid: 'u-1' };
const tags = { 'kube-iaas.dev/cluster': CLUSTER, 'kube-iaas.dev/owner-kind': owner.kind, 'kube-iaas.dev/owner': 'default/web', 'kube-iaas.dev/owner-uid': 'u-1' };

export function model(over: Partial<Model> = {}): Model {
  const hc = { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, successCodes: '200' };
  return {
    loadBalancer: { name: 'k8s-default-web-0123456789', type: 'application', scheme: 'internet-facing', ipAddressType: 'ipv4', subnetIds: ['subnet-a', 'subnet-b'], securityGroups: [OWN_GROUP], tags, attributes: {} },
    securityGroup: { name: 'k8s-alb-default-web', description: 'web', vpcId: 'vpc-1', tags, ingress: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }] },
    nodeRules: [{ groupId: 'sg-nodes', protocol: 'tcp', port: 30080, sourceGroupId: OWN_GROUP }],
    ruleDescription: `kube-iaas.dev cluster=${CLUSTER} owner=ApplicationLoadBalancer/default/web uid=u-1`,
    targetGroups: [{ name: 'k8s-default-tg-0123456789', protocol: 'HTTP', port: 30080, vpcId: 'vpc-1', healthCheck: hc, attributes: {}, tags }],
    listeners: [{ port: 80, protocol: 'HTTP', defaultAction: { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' } }],
    rules: [{ listenerPort: 80, priority: 1, hosts: ['shop.example.com'], paths: ['/*'], action: { type: 'forward', targetGroups: [{ name: 'k8s-default-tg-0123456789', weight: 1 }] } }],
    targets: ['i-0a', 'i-0b'],
    ...over,
  };
}

/** What AWS holds once `m` is applied. */
export function converged(m: Model): ActualState {
  const lbArn = `${ARN}:loadbalancer/app/${m.loadBalancer.name}/1`;
  const sg = m.securityGroup;
  return {
    loadBalancers: [{ arn: lbArn, name: m.loadBalancer.name, type: m.loadBalancer.type, scheme: m.loadBalancer.scheme, ipAddressType: 'ipv4', subnetIds: m.loadBalancer.subnetIds, securityGroupIds: m.loadBalancer.securityGroups.map((g) => (g === OWN_GROUP ? 'sg-own' : g)).sort(), tags: m.loadBalancer.tags, state: 'active' }],
    securityGroups: sg ? [{ id: 'sg-own', name: sg.name, tags: sg.tags, ingress: sg.ingress.map((r, i) => ({ ...r, id: `sgr-in-${i}` })) }] : [],
    nodeRules: m.nodeRules.map((r, i) => ({ ...r, ...(r.sourceGroupId === OWN_GROUP ? { sourceGroupId: 'sg-own' } : {}), id: `sgr-node-${i}` })),
    targetGroups: m.targetGroups.map((t) => ({ arn: `${ARN}:targetgroup/${t.name}/1`, name: t.name, protocol: t.protocol, port: t.port, healthCheck: t.healthCheck, tags: t.tags, targets: [...m.targets], healthyTargets: m.targets.length })),
    listeners: m.listeners.map((l) => ({ arn: `${lbArn}/l${l.port}`, loadBalancerArn: lbArn, port: l.port, protocol: l.protocol, certificateArns: l.certificateArns ?? [], defaultAction: l.defaultAction, forwardArns: [] })),
    rules: m.rules.map((r) => ({ arn: `${lbArn}/l${r.listenerPort}/r${r.priority}`, listenerArn: `${lbArn}/l${r.listenerPort}`, listenerPort: r.listenerPort, priority: r.priority, hosts: r.hosts, paths: r.paths, action: r.action, forwardArns: [] })),
  };
}

type Handler = (input: Record<string, unknown>, n: number) => unknown;

/** AwsClients whose EC2 and ELBv2 `send` answer from `handlers` by operation name; records every call. */
export function stubClients(handlers: Record<string, Handler>): { clients: AwsClients; ops: () => string[]; calls: Array<{ op: string; input: Record<string, unknown> }> } {
  const calls: Array<{ op: string; input: Record<string, unknown> }> = [];
  const counts = new Map<string, number>();
  const config = { region: 'cn-northwest-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const ec2 = new EC2Client(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const op = cmd.constructor.name.replace(/Command$/, '');
    calls.push({ op, input: cmd.input });
    const n = (counts.get(op) ?? 0) + 1;
    counts.set(op, n);
    const h = handlers[op];
    if (!h) throw new Error(`unexpected call ${op}`);
    return h(cmd.input, n);
  };
  Object.assign(ec2, { send });
  Object.assign(elbv2, { send });
  const clients: Pick<AwsClients, 'cluster' | 'ec2' | 'elbv2'> & { guard: Pick<AwsClients['guard'], 'asOwner'> } = {
    cluster: CLUSTER,
    ec2,
    elbv2,
    guard: { asOwner: <T>(_o: OwnerRef, fn: () => T) => fn() },
  };
  return { clients: clients as AwsClients, calls, ops: () => calls.map((c) => c.op) };
}

export const awsError = (code: string, kind: 'not-found' | 'conflict' | 'terminal' = 'conflict') => new AwsError({ kind, code, message: `${code} (stub)` });
