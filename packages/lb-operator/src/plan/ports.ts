// Pure: which ports of the nodes a NetworkLoadBalancer may send traffic and health checks to, and
// how many client CIDRs it may open. A hand-applied NetworkLoadBalancer gets no more power than the
// Service that would have produced it: a Service can only reach its NodePorts, which the API server
// allocates from --service-node-port-range, so target and health-check ports are held to that range
// (the operator cannot read the API server's flags; --node-port-range mirrors it) plus the ports a
// cluster admin lists in --allowed-target-ports.
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { ANNOTATIONS } from '../constants.ts';
import { mergeCidrs } from './cidr.ts';
import type { PlanError } from './desired.ts';

export interface PortRange {
  from: number;
  to: number;
}

export interface PortPolicy {
  /** The API server's --service-node-port-range, as told to the operator. */
  nodePortRange: PortRange;
  /** Extra target ports a cluster admin allows (hostNetwork daemons and the like). */
  allowedTargetPorts: readonly PortRange[];
  /** Client CIDRs one NetworkLoadBalancer may open, counted after merging. */
  maxSourceRanges: number;
}

export const DEFAULT_NODE_PORT_RANGE: PortRange = { from: 30000, to: 32767 };
export const DEFAULT_MAX_SOURCE_RANGES = 20;

export const DEFAULT_PORT_POLICY: PortPolicy = { nodePortRange: DEFAULT_NODE_PORT_RANGE, allowedTargetPorts: [], maxSourceRanges: DEFAULT_MAX_SOURCE_RANGES };

/** `30000-32767` or `10250`; undefined when malformed or outside 1–65535. */
export function parsePortRange(text: string): PortRange | undefined {
  const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) return undefined;
  return { from, to };
}

/** A comma-separated list of ports and ranges; the first malformed item is reported. */
export function parsePortRanges(items: readonly string[]): { ok: true; ranges: PortRange[] } | { ok: false; item: string } {
  const ranges: PortRange[] = [];
  for (const item of items) {
    if (item.trim() === '') continue;
    const r = parsePortRange(item);
    if (!r) return { ok: false, item };
    ranges.push(r);
  }
  return { ok: true, ranges };
}

export function formatRange(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

const inRange = (port: number, r: PortRange) => port >= r.from && port <= r.to;

/** Whether a node port may receive load-balancer traffic under `policy`. */
export function portAllowed(port: number, policy: PortPolicy): boolean {
  return inRange(port, policy.nodePortRange) || policy.allowedTargetPorts.some((r) => inRange(port, r));
}

function allowedText(policy: PortPolicy): string {
  const extra = policy.allowedTargetPorts.length ? ` or ${policy.allowedTargetPorts.map(formatRange).join(', ')} (--allowed-target-ports)` : '';
  return `the cluster's NodePort range ${formatRange(policy.nodePortRange)} (--node-port-range)${extra}`;
}

/** Set on translated CRs so a message can name the Service annotation the user actually wrote. */
const ANNOTATION_OF_FIELD: Record<string, string> = {
  'spec.healthCheck.port': ANNOTATIONS.healthcheckPort,
  'spec.sourceRanges': `${ANNOTATIONS.sourceRanges} / spec.loadBalancerSourceRanges`,
};

/** The Service annotation behind a CR field, when the CR was translated from a Service. */
export function annotationFor(field: string): string | undefined {
  return ANNOTATION_OF_FIELD[field];
}

/** The client CIDRs the load balancer opens, merged; internet-facing without ranges is everyone. */
export function clientCidrs(nlb: NetworkLoadBalancer, vpcCidr: string | undefined): string[] {
  const scheme = nlb.spec.scheme ?? 'internal';
  if (nlb.spec.sourceRanges?.length) return mergeCidrs(nlb.spec.sourceRanges);
  if (scheme === 'internet-facing') return ['0.0.0.0/0'];
  return vpcCidr ? [vpcCidr] : [];
}

/**
 * Every explicit target port, health-check port and the source-range count checked against the
 * policy, before any AWS call. NodePorts read from a Service are the API server's and are checked in
 * `desiredState` (they can only be outside the range when --node-port-range disagrees with it).
 */
export function checkPorts(nlb: NetworkLoadBalancer, policy: PortPolicy): PlanError[] {
  const errors: PlanError[] = [];
  const check = (field: string, port: number | undefined) => {
    if (port === undefined || portAllowed(port, policy)) return;
    errors.push({ field, message: `port ${port} is not allowed: load balancers may only reach ${allowedText(policy)}` });
  };
  nlb.spec.listeners.forEach((l, i) => {
    check(`spec.listeners[${i}].targetPort`, l.targetPort);
    check(`spec.listeners[${i}].healthCheck.port`, l.healthCheck?.port);
  });
  check('spec.healthCheck.port', nlb.spec.healthCheck?.port);
  if (nlb.spec.sourceRanges?.length) {
    const merged = mergeCidrs(nlb.spec.sourceRanges);
    if (merged.length > policy.maxSourceRanges) {
      errors.push({
        field: 'spec.sourceRanges',
        message: `${merged.length} CIDR blocks after merging adjacent and contained ones (${nlb.spec.sourceRanges.length} given); at most ${policy.maxSourceRanges} are allowed (--max-source-ranges)`,
      });
    }
  }
  return errors;
}

/** A NodePort taken from the Service, checked like an explicit one. */
export function checkNodePort(field: string, port: number, policy: PortPolicy): PlanError | undefined {
  if (portAllowed(port, policy)) return undefined;
  return { field, message: `NodePort ${port} is outside ${allowedText(policy)}; set --node-port-range to the API server's --service-node-port-range` };
}
