// The node agent's view of its node (pool ENIs + pod grants), from whichever source, and the pure
// decision of what to answer the plugin for one pod.
import { ErrorCode, inCidr, subnetGateway } from '../cni.ts';
import type { WireGrant } from '../protocol.ts';

// The eni-operator's annotation contract (src/constants.ts has the same names; not imported here because it
// loads the CRD validators, which the node agent has no use for — a unit test keeps the two equal).
export const ANN_IP = 'network.kube-iaas.dev/ip';
export const ANN_ENI = 'network.kube-iaas.dev/eni';
export const ANN_DEVICE_INDEX = 'network.kube-iaas.dev/device-index';
export const ANN_ROUTE_TABLE = 'network.kube-iaas.dev/route-table';

export interface ViewEni {
  eniId: string;
  deviceIndex: number;
  macAddress?: string;
  subnetCidr?: string;
  primaryIp?: string;
  secondaryIps?: string[];
}

export interface NodeView {
  nodeName: string;
  primaryIp: string;
  vpcCidrs: string[];
  enis: ViewEni[];
  /** The pool's conditions, quoted when a pod waits in vain. */
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  /** Pod `namespace/name` → its annotations (the eni-operator's contract). */
  pods: Record<string, Record<string, string>>;
}

export type Decision = { kind: 'grant'; grant: WireGrant } | { kind: 'refused'; code: number; msg: string } | { kind: 'wait' };

/** `linkProblem(eniId)` says why an ENI has no usable link on this node, if so. */
export function decide(view: NodeView, pod: string, linkProblem: (eniId: string) => string | undefined): Decision {
  const ann = view.pods[pod];
  const ip = ann?.[ANN_IP];
  if (!ann || !ip) return { kind: 'wait' };
  const refuse = (msg: string): Decision => ({ kind: 'refused', code: ErrorCode.grantRefused, msg: `pod ${pod}: ${msg}` });
  const eniId = ann[ANN_ENI] ?? '';
  const eni = view.enis.find((e) => e.eniId === eniId);
  if (!eni) return refuse(`${ANN_ENI} ${JSON.stringify(eniId)} (address ${ip}) is not an ENI of node ${view.nodeName}'s pool`);
  if (!(eni.secondaryIps ?? []).includes(ip)) return refuse(`${ANN_IP} ${ip} is not in node ${view.nodeName}'s pool (not a secondary address of ${eniId})`);
  const deviceIndex = Number(ann[ANN_DEVICE_INDEX] ?? eni.deviceIndex);
  if (deviceIndex !== eni.deviceIndex) return refuse(`${ANN_DEVICE_INDEX} ${deviceIndex} does not match ${eniId}'s device index ${eni.deviceIndex}`);
  const routeTable = routeTableOf(eni.deviceIndex);
  if (ann[ANN_ROUTE_TABLE] !== undefined && Number(ann[ANN_ROUTE_TABLE]) !== routeTable) {
    return refuse(`${ANN_ROUTE_TABLE} ${ann[ANN_ROUTE_TABLE]} does not match ${eniId}'s table ${routeTable}`);
  }
  if (eni.deviceIndex !== 0) {
    const problem = linkProblem(eniId);
    if (problem) return refuse(problem);
  }
  return { kind: 'grant', grant: { ip, eniId, deviceIndex, routeTable, primaryIp: view.primaryIp, vpcCidrs: view.vpcCidrs } };
}

/** The eni-operator's contract: main (254) on the primary ENI, device index + 1 otherwise. */
export function routeTableOf(deviceIndex: number): number {
  return deviceIndex === 0 ? 254 : deviceIndex + 1;
}

export function waitMessage(view: NodeView | undefined, pod: string, waitedMs: number): string {
  const node = view?.nodeName ?? 'this node';
  const all = view?.conditions ?? [];
  const notReady = all.filter((c) => c.status !== 'True');
  // The conditions that explain the wait; all of them when none is False (then the pod is simply not served yet).
  const shown = notReady.length ? notReady : all;
  const cond = shown.length ? shown.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`).join('; ') : 'no condition reported';
  return `pod ${pod}: no address granted within ${(waitedMs / 1000).toFixed(0)} s; pool ${node}: ${cond}`;
}

/** ENI table content: the subnet's gateway on that link, and the default route through it. */
export function eniTableLines(eni: ViewEni, link: string): string[] {
  const table = routeTableOf(eni.deviceIndex);
  const gw = subnetGateway(eni.subnetCidr ?? '');
  return [
    `route replace ${gw} dev ${link} scope link table ${table}`,
    `route replace default via ${gw} dev ${link} table ${table}`,
  ];
}

export function ipInVpc(ip: string, vpcCidrs: string[]): boolean {
  return vpcCidrs.some((c) => inCidr(ip, c));
}
