// Pure: listeners of the kept load balancer by port, and the rules of those listeners by
// (listener port, priority): priorities are stable, so a changed rule is modified in place.
import { deepEqual, diffByKey } from '@kube-iaas/core/runtime';
import type { ListenerChange, RuleChange } from '../changes.ts';
import type { ActualListener, ActualRule, ListenerModel, RuleModel } from '../model.ts';

const SECURE = new Set(['HTTPS', 'TLS']);
const sorted = (xs: readonly string[]) => [...xs].sort();

export function listenerDiffers(d: ListenerModel, a: ActualListener): boolean {
  if (a.protocol !== d.protocol) return true;
  if (!deepEqual(d.defaultAction, a.defaultAction)) return true;
  if (!SECURE.has(d.protocol)) return false;
  // DescribeListeners reports the default certificate only; the others are added at creation.
  if ((d.certificateArns ?? [])[0] !== a.certificateArns[0]) return true;
  if (d.sslPolicy !== undefined && d.sslPolicy !== a.sslPolicy) return true;
  return d.alpnPolicy !== undefined && d.alpnPolicy !== a.alpnPolicy;
}

export function ruleDiffers(d: RuleModel, a: ActualRule): boolean {
  return !deepEqual(sorted(d.hosts), sorted(a.hosts)) || !deepEqual(sorted(d.paths), sorted(a.paths)) || !deepEqual(d.action, a.action);
}

export interface ListenerDiff {
  apply: Array<ListenerChange | RuleChange>;
  /** Rules, then listeners (a listener's rules go with it). */
  remove: Array<ListenerChange | RuleChange>;
}

/** `listeners` and `rules` are those of the kept load balancer (none when it is created). */
export function diffListeners(desired: { listeners: readonly ListenerModel[]; rules: readonly RuleModel[] }, listeners: readonly ActualListener[], rules: readonly ActualRule[]): ListenerDiff {
  const out: ListenerDiff = { apply: [], remove: [] };
  const l = diffByKey(desired.listeners, listeners, { key: (x) => String(x.port), equal: (d, a) => !listenerDiffers(d, a) });
  for (const x of l.toCreate) out.apply.push({ op: 'createListener', listener: x });
  for (const u of l.toUpdate) out.apply.push({ op: 'modifyListener', arn: u.actual.arn, listener: u.desired });
  const arns = new Set(listeners.map((x) => x.arn));
  const r = diffByKey(
    desired.rules,
    rules.filter((x) => arns.has(x.listenerArn)),
    { key: (x) => `${x.listenerPort}|${x.priority}`, equal: (d, a) => !ruleDiffers(d, a) },
  );
  for (const x of r.toCreate) out.apply.push({ op: 'createRule', rule: x });
  for (const u of r.toUpdate) out.apply.push({ op: 'modifyRule', arn: u.actual.arn, rule: u.desired });
  const going = new Set(l.toDelete.map((x) => x.arn));
  for (const x of r.toDelete) if (!going.has(x.listenerArn)) out.remove.push({ op: 'deleteRule', arn: x.arn, listenerPort: x.listenerPort, priority: x.priority });
  for (const x of l.toDelete) out.remove.push({ op: 'deleteListener', arn: x.arn, port: x.port });
  return out;
}
