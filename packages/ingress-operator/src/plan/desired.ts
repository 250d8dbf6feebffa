// Pure: the desired AWS state of one ApplicationLoadBalancer, from its spec and what stage 2 resolved
// around it (instances, VPC, subnets, the cluster-tagged node security groups, Services for hand-written
// target groups without targetPort).
import { APPLICATION_LOAD_BALANCER, type AlbAction, type AlbTargetGroup, type ApplicationLoadBalancer } from '@kube-iaas/crds';
import { ingressTags, ownedTags, ownerDescription, targetGroupTags, type OwnerRef } from '@kube-iaas/core/tags';
import type { ServiceLike } from '../translate/types.ts';
import type { NodeRule } from '@kube-iaas/elbv2';
import { loadBalancerName, securityGroupName, targetGroupName } from './names.ts';
import { MANAGED_SG, type DesiredListener, type DesiredRule, type DesiredState, type DesiredTargetGroup, type HealthCheckSettings, type RuleAction } from './types.ts';

/** A problem that stops planning; `field` is a path in the ApplicationLoadBalancer. */
export interface PlanError {
  field: string;
  message: string;
}

export interface DesiredInputs {
  cluster: string;
  alb: ApplicationLoadBalancer;
  /** Instances to register in every target group (nodes, sorted, unique). */
  instanceIds: string[];
  vpcId: string;
  /** Client CIDR of an internal ALB without inboundCidrs. */
  vpcCidr?: string | undefined;
  /** Subnets the ALB is placed in (one per AZ, from spec.subnets or the role tags). */
  subnetIds: string[];
  /** Cluster-tagged node security groups that get the backend rules (never an untagged one). */
  nodeSecurityGroupIds: string[];
  /** spec.securityGroups resolved to IDs (names are looked up by stage 2). */
  securityGroupIds?: string[] | undefined;
  /** Services of the namespace, for target groups with a serviceRef but no targetPort. */
  services?: readonly ServiceLike[] | undefined;
}

export const ALB_KIND: string = APPLICATION_LOAD_BALANCER.kind;

/** The owner recorded in AWS tags and rule descriptions: the ApplicationLoadBalancer itself. */
export function ownerOf(alb: ApplicationLoadBalancer): OwnerRef {
  return { kind: ALB_KIND, namespace: alb.metadata.namespace ?? 'default', name: alb.metadata.name ?? '', uid: alb.metadata.uid ?? '' };
}

function healthCheckOf(alb: ApplicationLoadBalancer, tg: AlbTargetGroup): HealthCheckSettings {
  const hc = { ...(alb.spec.healthCheck ?? {}), ...(tg.healthCheck ?? {}) };
  return {
    protocol: hc.protocol ?? 'HTTP',
    port: hc.port !== undefined ? String(hc.port) : 'traffic-port',
    path: hc.path ?? '/',
    intervalSeconds: hc.intervalSeconds ?? 15,
    timeoutSeconds: hc.timeoutSeconds ?? 5,
    healthyThreshold: hc.healthyThreshold ?? 2,
    unhealthyThreshold: hc.unhealthyThreshold ?? 2,
    successCodes: hc.successCodes ?? '200',
  };
}

function nodePortOf(tg: AlbTargetGroup, services: readonly ServiceLike[] | undefined): number | undefined {
  if (tg.targetPort) return tg.targetPort;
  const ref = tg.serviceRef;
  const svc = services?.find((s) => s.metadata?.name === ref?.name);
  const p = svc?.spec?.ports?.find((x) => (ref?.portName !== undefined ? x.name === ref.portName : x.port === ref?.port));
  return p?.nodePort;
}

function actionOf(a: AlbAction, tgName: (key: string) => string | undefined): RuleAction | undefined {
  if (a.type === 'forward') {
    const targetGroups: Array<{ name: string; weight: number }> = [];
    for (const t of a.forward?.targetGroups ?? []) {
      const name = tgName(t.name);
      if (!name) return undefined;
      targetGroups.push({ name, weight: t.weight ?? 1 });
    }
    return { type: 'forward', targetGroups };
  }
  if (a.type === 'fixed-response') {
    const f = a.fixedResponse;
    const out: RuleAction = { type: 'fixed-response', statusCode: String(f?.statusCode ?? 404) };
    if (f?.contentType) out.contentType = f.contentType;
    if (f?.messageBody !== undefined) out.messageBody = f.messageBody;
    return out;
  }
  const r = a.redirect;
  const out: RuleAction = { type: 'redirect', statusCode: r?.statusCode ?? 'HTTP_301' };
  for (const k of ['protocol', 'port', 'host', 'path', 'query'] as const) if (r?.[k] !== undefined) out[k] = r[k];
  return out;
}

/** Builds the desired state, or the errors (naming the CR field) that keep it from being built. */
export function desiredState(inputs: DesiredInputs): { ok: true; desired: DesiredState } | { ok: false; errors: PlanError[] } {
  const { cluster, alb } = inputs;
  const spec = alb.spec;
  const errors: PlanError[] = [];
  const owner = ownerOf(alb);
  const scheme = spec.scheme ?? 'internal';
  const names = { cluster, namespace: owner.namespace ?? '', name: owner.name, uid: owner.uid, scheme };
  const userTags = spec.additionalTags ?? {};
  // A group of one is tagged with its Ingress.
  const members = spec.ingresses ?? [];
  const only = !spec.groupName && members.length === 1 ? members[0] : undefined;
  const lbExtra = { ...userTags, ...(only ? ingressTags({ namespace: names.namespace, name: only.name }) : {}) };

  const targetGroups: DesiredTargetGroup[] = [];
  const tgByKey = new Map<string, DesiredTargetGroup>();
  (spec.targetGroups ?? []).forEach((tg, i) => {
    const port = nodePortOf(tg, inputs.services);
    if (!port) {
      errors.push({ field: `spec.targetGroups[${i}].targetPort`, message: tg.serviceRef ? `Service ${tg.serviceRef.name} does not exist or has no NodePort for that port` : 'required without serviceRef' });
      return;
    }
    const protocol = tg.protocol ?? 'HTTP';
    const svcTags = tg.serviceRef ? targetGroupTags({ namespace: names.namespace, name: tg.serviceRef.name }, tg.serviceRef.portName ?? tg.serviceRef.port ?? port) : {};
    const d: DesiredTargetGroup = {
      key: tg.name,
      name: targetGroupName({ ...names, key: tg.name, protocol, port }),
      protocol,
      port,
      vpcId: inputs.vpcId,
      healthCheck: healthCheckOf(alb, tg),
      attributes: { ...(tg.attributes ?? {}) },
      tags: ownedTags(cluster, owner, { ...userTags, ...svcTags }),
    };
    targetGroups.push(d);
    tgByKey.set(tg.name, d);
  });
  const tgName = (key: string) => tgByKey.get(key)?.name;

  const listeners: DesiredListener[] = [];
  spec.listeners.forEach((l, i) => {
    const protocol = l.protocol ?? 'HTTP';
    let defaultAction: RuleAction | undefined;
    if (spec.sslRedirectPort !== undefined && protocol === 'HTTP') {
      defaultAction = { type: 'redirect', statusCode: 'HTTP_301', protocol: 'HTTPS', port: String(spec.sslRedirectPort) };
    } else {
      defaultAction = l.defaultAction ? actionOf(l.defaultAction, tgName) : { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' };
    }
    if (!defaultAction) {
      errors.push({ field: `spec.listeners[${i}].defaultAction`, message: 'forwards to a target group that could not be built' });
      return;
    }
    const d: DesiredListener = { port: l.port, protocol, defaultAction };
    if (protocol === 'HTTPS') {
      d.certificateArns = [...(l.certificateArns ?? [])];
      if (l.sslPolicy) d.sslPolicy = l.sslPolicy;
    }
    listeners.push(d);
  });

  const rules: DesiredRule[] = [];
  (spec.rules ?? []).forEach((r, i) => {
    const action = actionOf(r.action, tgName);
    if (!action) {
      errors.push({ field: `spec.rules[${i}].action`, message: 'forwards to a target group that could not be built' });
      return;
    }
    rules.push({ listenerPort: r.listenerPort, priority: r.priority, hosts: [...(r.hosts ?? [])], paths: [...(r.paths ?? [])], action });
  });

  // Security: our own group open on the listener ports, unless spec.securityGroups names the groups.
  const managed = !spec.securityGroups?.length;
  if (!managed && !inputs.securityGroupIds?.length) errors.push({ field: 'spec.securityGroups', message: 'none of the named security groups was found' });
  const cidrs = spec.inboundCidrs?.length ? spec.inboundCidrs : scheme === 'internet-facing' ? ['0.0.0.0/0'] : inputs.vpcCidr ? [inputs.vpcCidr] : [];
  if (managed && cidrs.length === 0) errors.push({ field: 'spec.inboundCidrs', message: 'unset, and the VPC CIDR (the default of an internal ALB) is unknown' });
  if (inputs.subnetIds.length < 2) errors.push({ field: 'spec.subnets', message: `an ALB needs subnets in at least two AZs; found ${inputs.subnetIds.length}` });
  if (errors.length > 0) return { ok: false, errors };

  const albGroups = managed ? [MANAGED_SG] : [...(inputs.securityGroupIds ?? [])].sort();
  const backendRules: NodeRule[] = [];
  if (spec.manageBackendSecurityGroupRules ?? true) {
    const ports = [...new Set(targetGroups.flatMap((t) => [t.port, ...(t.healthCheck.port === 'traffic-port' ? [] : [Number(t.healthCheck.port)])]))].sort((a, b) => a - b);
    for (const groupId of [...inputs.nodeSecurityGroupIds].sort()) for (const port of ports) for (const sourceGroupId of albGroups) backendRules.push({ groupId, protocol: 'tcp', port, sourceGroupId });
  }
  const desired: DesiredState = {
    loadBalancer: {
      name: spec.loadBalancerName ?? loadBalancerName(names),
      type: 'application',
      scheme,
      ipAddressType: spec.ipAddressType ?? 'ipv4',
      subnetIds: [...inputs.subnetIds].sort(),
      securityGroups: albGroups,
      tags: ownedTags(cluster, owner, lbExtra),
      attributes: { ...(spec.attributes ?? {}) },
    },
    nodeRules: backendRules,
    ruleDescription: ownerDescription(cluster, owner),
    targetGroups,
    listeners: listeners.sort((a, b) => a.port - b.port),
    rules: rules.sort((a, b) => a.listenerPort - b.listenerPort || a.priority - b.priority),
    targets: [...new Set(inputs.instanceIds)].sort(),
  };
  if (managed) {
    const ports = [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b);
    desired.securityGroup = {
      name: securityGroupName(names),
      description: `ALB ${names.namespace}/${names.name} (kube-iaas ingress-operator)`,
      vpcId: inputs.vpcId,
      tags: ownedTags(cluster, owner, { ...lbExtra, Name: securityGroupName(names) }),
      ingress: ports.flatMap((port) => cidrs.map((cidr) => ({ protocol: 'tcp' as const, fromPort: port, toPort: port, cidr }))),
    };
  }
  return { ok: true, desired };
}
