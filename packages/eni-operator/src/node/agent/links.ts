// Secondary ENIs as Linux links: found by MAC in /sys/class/net (no fork), brought up with their
// primary address as /32 (no connected route in main: pods on the primary ENI keep using it) and one
// route table per device index.
import { readFileSync, readdirSync } from 'node:fs';
import { ipBatch } from '../sys.ts';
import { eniTableLines, type NodeView } from './view.ts';

export function linksByMac(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync('/sys/class/net')) {
    try {
      out.set(readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim().toLowerCase(), name);
    } catch {
      // a link that vanished while listing
    }
  }
  return out;
}

/** Returns ENI ID → the problem that keeps its link from use; ENIs set up fine are absent. */
export function ensureEniLinks(view: NodeView, mtu: number, done: Set<string>): Map<string, string> {
  const problems = new Map<string, string>();
  const macs = linksByMac();
  for (const eni of view.enis) {
    if (eni.deviceIndex === 0) continue;
    const mac = (eni.macAddress ?? '').toLowerCase();
    const link = macs.get(mac);
    if (!link) {
      problems.set(eni.eniId, `ENI ${eni.eniId} (device index ${eni.deviceIndex}, MAC ${mac || 'unknown'}) has no link on node ${view.nodeName}`);
      done.delete(eni.eniId);
      continue;
    }
    const key = `${eni.eniId}/${link}`;
    if (done.has(key)) continue;
    try {
      ipBatch([
        `link set ${link} mtu ${mtu} up`,
        ...(eni.primaryIp ? [`addr replace ${eni.primaryIp}/32 dev ${link}`] : []),
        ...eniTableLines(eni, link),
      ]);
      done.add(key);
    } catch (err) {
      problems.set(eni.eniId, `ENI ${eni.eniId} (link ${link}): ${(err as Error).message}`);
    }
  }
  return problems;
}
