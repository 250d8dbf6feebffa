// Pure: the desired AWS state of one NetworkLoadBalancer, from its spec and what stage 2 resolved around
// it (the Service's NodePorts, the target instances, the VPC, subnets and node security groups).
import type { V1Node, V1Service } from '@kubernetes/client-node';
import { NETWORK_LOAD_BALANCER, type NetworkLoadBalancer, type NlbHealthCheckOverride, type NlbListener } from '@kube-iaas/crds';
import { instanceIdOfNode } from '@kube-iaas/core/aws';
import { nameTag, ownedTags, ownerDescription, serviceTags, targetGroupTags, type OwnerRef } from '@kube-iaas/core/tags';
import { EXCLUDE_FROM_LB_LABEL } from '../constants.ts';
import { cidrContains } from './cidr.ts';
import { OWN_GROUP, type GroupRule, type ListenerModel, type SecurityGroupModel } from '@kube-iaas/elbv2';
import { frontendGroupName, loadBalancerName, targetGroupName } from './names.ts';
import { checkNodePort, checkPorts, clientCidrs, DEFAULT_PORT_POLICY, type PortPolicy } from './ports.ts';
import type { DesiredListener, DesiredState, DesiredTargetGroup, HealthCheckSettings, ListenerProtocol, RuleSpec } from './types.ts';

/** A problem that stops planning; `field` is a path in the NetworkLoadBalancer (or the Service). */
export interface PlanError {
  field: string;
  message: string;
}

export interface DesiredInputs {
  cluster: string;
  nlb: NetworkLoadBalancer;
  /** The Service named by spec.serviceRef, when there is one and it exists. */
  service?: V1Service | undefined;
  /** Instances to register (see `targetInstances`). */
  instanceIds: string[];
  vpcId: string;
  /** Client CIDR for internal load balancers without sourceRanges. */
  vpcCidr?: string | undefined;
  /** The subnets the load balancer is placed in (health checks come from their CIDRs). */
  subnets: ReadonlyArray<{ id: string; cidrBlock: string }>;
  /**
   * Cluster-tagged node security groups (never an untagged one): rules for an NLB without security
   * groups go there. Empty when the operator does not manage security-group rules.
   */
  securityGroupIds: string[];
  /** The shared backend group; set when the operator manages security groups. */
  backendGroupId?: string | undefined;
  /** Which node ports may be reached, how many client CIDRs; the defaults when unset. */
  policy?: PortPolicy | undefined;
}

export const NLB_KIND: string = NETWORK_LOAD_BALANCER.kind;

/** The owner recorded in AWS tags and rule descriptions: the NetworkLoadBalancer itself. */
export function ownerOf(nlb: NetworkLoadBalancer): OwnerRef {
  return { kind: NLB_KIND, namespace: nlb.metadata.namespace ?? 'default', name: nlb.metadata.name ?? '', uid: nlb.metadata.uid ?? '' };
}

/** The instance ID in a Node's providerID, if it is an EC2 instance (core's one providerID parser). */
export const instanceIdOf = (node: V1Node): string | undefined => instanceIdOfNode(node);

/**
 * The instances behind the load balancer: `spec.targets.instanceIds` when given; otherwise every Node
 * with an AWS providerID that matches `spec.targets.nodeSelector`, except Nodes labelled
 * node.kubernetes.io/exclude-from-external-load-balancers and Nodes being deleted. Sorted, unique.
 */
export function targetInstances(nlb: NetworkLoadBalancer, nodes: readonly V1Node[]): string[] {
  const explicit = nlb.spec.targets?.instanceIds;
  if (explicit?.length) return [...new Set(explicit)].sort();
  const selector = nlb.spec.targets?.nodeSelector ?? {};
  const ids = new Set<string>();
  for (const n of nodes) {
    const labels = n.metadata?.labels ?? {};
    if (n.metadata?.deletionTimestamp) continue;
    if (labels[EXCLUDE_FROM_LB_LABEL] !== undefined) continue;
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    const id = instanceIdOf(n);
    if (id) ids.add(id);
  }
  return [...ids].sort();
}

function healthCheckOf(nlb: NetworkLoadBalancer, override: NlbHealthCheckOverride | undefined): HealthCheckSettings {
  const base = nlb.spec.healthCheck ?? {};
  const hc = { ...base, ...(override ?? {}) };
  const protocol = hc.protocol ?? 'TCP';
  const out: HealthCheckSettings = {
    protocol,
    port: hc.port !== undefined ? String(hc.port) : 'traffic-port',
    intervalSeconds: hc.intervalSeconds ?? 10,
    timeoutSeconds: hc.timeoutSeconds ?? 10,
    healthyThreshold: hc.healthyThreshold ?? 3,
    unhealthyThreshold: hc.unhealthyThreshold ?? 3,
  };
  if (protocol !== 'TCP') {
    out.path = hc.path ?? '/';
    out.successCodes = hc.successCodes ?? '200-399';
  }
  return out;
}

function targetProtocolOf(l: NlbListener): ListenerProtocol {
  const protocol = l.protocol ?? 'TCP';
  return l.targetProtocol ?? (protocol === 'TLS' ? 'TCP' : protocol);
}

function nodePortFor(service: V1Service | undefined, l: NlbListener): number | undefined {
  if (l.targetPort) return l.targetPort;
  const ports = service?.spec?.ports ?? [];
  return ports.find((p) => p.port === l.port && p.nodePort)?.nodePort;
}

function ipProtocols(p: string): Array<'tcp' | 'udp'> {
  if (p === 'UDP') return ['udp'];
  if (p === 'TCP_UDP') return ['tcp', 'udp'];
  return ['tcp'];
}

function ruleKey(r: RuleSpec): string {
  return `${r.groupId}|${r.protocol}|${r.port}|${r.cidr}`;
}

export { ruleKey };

/** Builds the desired state, or the errors (naming the CR field) that keep it from being built. */
export function desiredState(inputs: DesiredInputs): { ok: true; desired: DesiredState } | { ok: false; errors: PlanError[] } {
  const { cluster, nlb, service } = inputs;
  const policy = inputs.policy ?? DEFAULT_PORT_POLICY;
  const errors: PlanError[] = checkPorts(nlb, policy);
  const owner = ownerOf(nlb);
  const scheme = nlb.spec.scheme ?? 'internal';
  const names = { cluster, namespace: owner.namespace ?? '', name: owner.name, uid: owner.uid, scheme };
  const svcRef = nlb.spec.serviceRef ? { namespace: owner.namespace ?? '', name: nlb.spec.serviceRef.name } : undefined;
  const userTags = nlb.spec.additionalTags ?? {};

  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  nlb.spec.listeners.forEach((l, i) => {
    const port = nodePortFor(service, l);
    if (!port) {
      errors.push({
        field: `spec.listeners[${i}].targetPort`,
        message: nlb.spec.serviceRef
          ? `Service ${nlb.spec.serviceRef.name} ${service ? `has no NodePort for port ${l.port}` : 'does not exist'}`
          : 'required without spec.serviceRef',
      });
      return;
    }
    if (!l.targetPort) {
      const e = checkNodePort(`spec.listeners[${i}].targetPort`, port, policy);
      if (e) errors.push(e);
    }
    const protocol = targetProtocolOf(l);
    const tgName = targetGroupName({ ...names, listenerPort: l.port, protocol, targetPort: port });
    targetGroups.push({
      name: tgName,
      listenerPort: l.port,
      protocol,
      port,
      vpcId: inputs.vpcId,
      healthCheck: healthCheckOf(nlb, l.healthCheck),
      attributes: { ...(nlb.spec.targetGroupAttributes ?? {}) },
      tags: ownedTags(cluster, owner, { ...userTags, ...(svcRef ? targetGroupTags(svcRef, l.name ?? l.port) : {}) }),
    });
    const listener: DesiredListener = { port: l.port, protocol: l.protocol ?? 'TCP', defaultAction: { type: 'forward', targetGroups: [{ name: tgName, weight: 1 }] } };
    if (listener.protocol === 'TLS') {
      listener.certificateArns = [...(l.certificateArns ?? [])];
      if (l.sslPolicy) listener.sslPolicy = l.sslPolicy;
      if (l.alpnPolicy) listener.alpnPolicy = l.alpnPolicy;
    }
    listeners.push(listener);
  });
  if (errors.length > 0) return { ok: false, errors };

  const clients = clientCidrs(nlb, inputs.vpcCidr);
  const rules = new Map<string, RuleSpec>();
  const add = (r: RuleSpec) => rules.set(ruleKey(r), r);
  for (const groupId of inputs.securityGroupIds) {
    for (const tg of targetGroups) {
      for (const protocol of ipProtocols(tg.protocol)) for (const cidr of clients) add({ groupId, protocol, port: tg.port, cidr });
      // Health checks come from the load balancer's addresses in its subnets, over TCP.
      const hcPort = tg.healthCheck.port === 'traffic-port' ? tg.port : Number(tg.healthCheck.port);
      for (const s of inputs.subnets) {
        const covered = tg.protocol !== 'UDP' && hcPort === tg.port && clients.some((c) => cidrContains(c, s.cidrBlock));
        if (!covered) add({ groupId, protocol: 'tcp', port: hcPort, cidr: s.cidrBlock });
      }
    }
  }

  const description = ownerDescription(cluster, owner);
  let frontend: SecurityGroupModel | undefined;
  if (inputs.backendGroupId) {
    frontend = {
      name: frontendGroupName(names),
      description: `Frontend of the NLB of NetworkLoadBalancer ${owner.namespace ?? ''}/${owner.name} (kube-iaas)`,
      vpcId: inputs.vpcId,
      tags: ownedTags(cluster, owner, { ...nameTag(frontendGroupName(names)), ...(svcRef ? serviceTags(svcRef) : {}) }),
      ingress: frontendRules(listeners, clients),
      ruleDescription: description,
    };
  }

  return {
    ok: true,
    desired: {
      loadBalancer: {
        name: nlb.spec.loadBalancerName ?? loadBalancerName(names),
        type: 'network',
        scheme,
        ipAddressType: nlb.spec.ipAddressType ?? 'ipv4',
        subnetIds: inputs.subnets.map((s) => s.id).sort(),
        // Its own frontend group and the cluster's backend group, when security groups are managed.
        securityGroups: inputs.backendGroupId ? [OWN_GROUP, inputs.backendGroupId] : [],
        tags: ownedTags(cluster, owner, { ...userTags, ...(svcRef ? serviceTags(svcRef) : {}) }),
        attributes: { ...(nlb.spec.attributes ?? {}) },
      },
      targetGroups,
      listeners,
      rules: [],
      targets: inputs.instanceIds,
      nodeRules: [...rules.values()],
      ruleDescription: description,
      ...(frontend ? { securityGroup: frontend } : {}),
    },
  };
}

/** Contiguous ports as ranges, so a Service with many ports costs few rules. */
function portRanges(ports: Iterable<number>): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  for (const p of [...new Set(ports)].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && p === last.to + 1) last.to = p;
    else out.push({ from: p, to: p });
  }
  return out;
}

/**
 * The frontend group's rules: every client CIDR to the listener ports, per IP protocol. Health checks
 * need nothing here: they leave the NLB through the backend group, which the node group trusts.
 */
export function frontendRules(listeners: readonly ListenerModel[], cidrs: readonly string[]): GroupRule[] {
  const ports = { tcp: [] as number[], udp: [] as number[] };
  for (const l of listeners) for (const p of ipProtocols(l.protocol)) ports[p].push(l.port);
  const out: GroupRule[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    for (const r of portRanges(ports[protocol])) for (const cidr of cidrs) out.push({ protocol, fromPort: r.from, toPort: r.to, cidr });
  }
  return out;
}
