// Names and addresses derived from the pod, so that DEL and CHECK find what ADD made without state.
import { createHash } from 'node:crypto';

/** Host side of the pod's veth: `eni` + 11 hex of sha1(namespace/name), 14 chars (IFNAMSIZ allows 15); the VPC CNI's scheme. */
export function hostVethName(namespace: string, name: string): string {
  return 'eni' + createHash('sha1').update(`${namespace}.${name}`).digest('hex').slice(0, 11);
}

/**
 * A fixed, locally administered unicast MAC for the host side, from the same hash: the pod's static
 * neighbour entry can be written without asking the kernel which MAC the veth got (one process less).
 */
export function hostVethMac(namespace: string, name: string): string {
  const h = createHash('sha1').update(`mac:${namespace}/${name}`).digest();
  const b = [0x02, h[0] ?? 0, h[1] ?? 0, h[2] ?? 0, h[3] ?? 0, h[4] ?? 0];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** nftables rule comment tying a SNAT rule to its attachment (the spec's container ID; 128 bytes max). */
export function snatComment(containerId: string): string {
  return `cni:${containerId}`.slice(0, 120);
}
