// Pure: listener rule priorities that survive updates (a rule keeps its slot while its identity holds,
// a new one takes a free slot between its neighbours) and rules shadowed by an earlier identical one.
import type { AlbRule } from '@kube-iaas/crds';

export const PRIORITY_STRIDE = 10;
export const MAX_PRIORITY = 50000;

/** The identity of a rule across updates: member, listener and conditions (not the action). */
export function ruleIdentity(r: Pick<AlbRule, 'ingressName' | 'listenerPort' | 'hosts' | 'paths'>): string {
  return JSON.stringify([r.ingressName ?? '', r.listenerPort, [...(r.hosts ?? [])].sort(), [...(r.paths ?? [])].sort()]);
}

export const conditionKey = (r: Pick<AlbRule, 'listenerPort' | 'hosts' | 'paths'>) => JSON.stringify([r.listenerPort, [...(r.hosts ?? [])].sort(), [...(r.paths ?? [])].sort()]);

export interface PendingRule {
  rule: Omit<AlbRule, 'priority'>;
  member: string;
  field: string;
  priority?: number;
}

/**
 * Gives every rule a priority: the one it had before when its identity is unchanged; otherwise a free
 * slot between its neighbours in merge order (or after the last), so nothing else is renumbered.
 */
export function assignPriorities(pending: PendingRule[], previous: readonly AlbRule[], reserved: ReadonlyMap<number, Set<number>> = new Map()): void {
  const prior = new Map(previous.map((r) => [ruleIdentity(r), r.priority]));
  const byListener = new Map<number, PendingRule[]>();
  for (const p of pending) {
    const list = byListener.get(p.rule.listenerPort) ?? [];
    list.push(p);
    byListener.set(p.rule.listenerPort, list);
  }
  for (const [port, list] of byListener) {
    const used = new Set<number>(reserved.get(port) ?? []);
    for (const p of list) {
      const was = prior.get(ruleIdentity(p.rule));
      if (was !== undefined && !used.has(was)) {
        p.priority = was;
        used.add(was);
      }
    }
    list.forEach((p, i) => {
      if (p.priority !== undefined) return;
      let lo = 0;
      for (let k = i - 1; k >= 0; k--) {
        const q = list[k]?.priority;
        if (q !== undefined) {
          lo = q;
          break;
        }
      }
      let hi = MAX_PRIORITY + 1;
      for (let k = i + 1; k < list.length; k++) {
        const q = list[k]?.priority;
        if (q !== undefined) {
          hi = q;
          break;
        }
      }
      let pick: number | undefined;
      if (hi - lo > 1) {
        const c = lo + Math.min(PRIORITY_STRIDE, Math.floor((hi - lo) / 2));
        for (let x = c; x < hi && pick === undefined; x++) if (!used.has(x)) pick = x;
        for (let x = c - 1; x > lo && pick === undefined; x--) if (!used.has(x)) pick = x;
      }
      // No room between the neighbours: the first free slot after lo, then any free slot.
      for (let x = lo + 1; x <= MAX_PRIORITY && pick === undefined; x++) if (!used.has(x)) pick = x;
      for (let x = 1; x <= lo && pick === undefined; x++) if (!used.has(x)) pick = x;
      if (pick !== undefined) {
        p.priority = pick;
        used.add(pick);
      }
    });
  }
}

/**
 * A kept (carried) rule and a live rule with the same conditions on one listener: only the first can ever
 * match, so the other would be a dead rule on the ALB. The member earlier in merge order (group.order,
 * then name) keeps its rule, as it would if both were live; the other's is left out. So a broken member
 * still holds its path against the live members it was ahead of (nothing that works changes because a
 * member broke), and once it is fixed, or a member ahead of it takes the path, its stale copy goes.
 */
export function dropShadowed<C extends Pick<AlbRule, 'ingressName' | 'listenerPort' | 'hosts' | 'paths'>, L extends { rule: Pick<AlbRule, 'listenerPort' | 'hosts' | 'paths'>; member: string }>(
  carried: readonly C[],
  live: readonly L[],
  mergeOrder: ReadonlyArray<{ name: string }>,
): { carried: C[]; live: L[] } {
  const rank = new Map(mergeOrder.map((m, i) => [m.name, i]));
  const rankOf = (member: string | undefined) => rank.get(member ?? '') ?? Number.MAX_SAFE_INTEGER;
  const first = (entries: Array<[string, number]>) => {
    const out = new Map<string, number>();
    for (const [k, r] of entries) if (!(out.has(k) && (out.get(k) as number) <= r)) out.set(k, r);
    return out;
  };
  const liveFirst = first(live.map((l) => [conditionKey(l.rule), rankOf(l.member)]));
  const carriedFirst = first(carried.map((c) => [conditionKey(c), rankOf(c.ingressName)]));
  return {
    carried: carried.filter((c) => !((liveFirst.get(conditionKey(c)) ?? Number.MAX_SAFE_INTEGER) < rankOf(c.ingressName))),
    live: live.filter((l) => !((carriedFirst.get(conditionKey(l.rule)) ?? Number.MAX_SAFE_INTEGER) < rankOf(l.member))),
  };
}
