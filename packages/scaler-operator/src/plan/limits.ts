// Pure: which NodeGroup may act on an ASG, and how ASG limits the operator changed are put back.
import type { AsgLimits } from '../aws/groups.ts';

export interface Limits {
  minSize: number;
  maxSize: number;
}

/**
 * Recorded on a NodeGroup (annotation `autoscaling.kube-iaas.dev/asg-limits`) before the operator first
 * writes its ASG's MinSize/MaxSize: what they were (`before`) and what it last wrote (`set`). On the
 * NodeGroup, not in memory, so a restarted operator (or another replica) can still put them back.
 */
export interface LimitsRecord {
  asgName: string;
  before: Limits;
  set: Limits;
}

const isLimits = (x: unknown): x is Limits =>
  typeof x === 'object' && x !== null && Number.isInteger((x as Limits).minSize) && Number.isInteger((x as Limits).maxSize) && (x as Limits).minSize >= 0 && (x as Limits).maxSize >= 0;

/** The record in the annotation, or undefined when absent or not one (then nothing is restored from it). */
export function parseLimitsRecord(raw: string | undefined): LimitsRecord | undefined {
  if (!raw) return undefined;
  try {
    const j = JSON.parse(raw) as Partial<LimitsRecord>;
    if (typeof j.asgName !== 'string' || !j.asgName || !isLimits(j.before) || !isLimits(j.set)) return undefined;
    return { asgName: j.asgName, before: { minSize: j.before.minSize, maxSize: j.before.maxSize }, set: { minSize: j.set.minSize, maxSize: j.set.maxSize } };
  } catch {
    return undefined;
  }
}

export function formatLimitsRecord(r: LimitsRecord): string {
  return JSON.stringify({ asgName: r.asgName, before: r.before, set: r.set });
}

/** The record to write before writing `update` onto the ASG: `before` is kept from an earlier record of the same ASG. */
export function nextLimitsRecord(previous: LimitsRecord | undefined, asgName: string, asg: Limits, update: Limits): LimitsRecord {
  const before = previous?.asgName === asgName ? previous.before : { minSize: asg.minSize, maxSize: asg.maxSize };
  return { asgName, before, set: { minSize: update.minSize, maxSize: update.maxSize } };
}

export interface NodeGroupClaim {
  name: string;
  asgName: string;
  /** metadata.creationTimestamp (RFC 3339 on the wire; a Date in some clients' types). */
  created?: string | Date | undefined;
}

/**
 * The NodeGroup that owns each ASG: the one created first (ties by name). Every other NodeGroup naming
 * the same ASG is in conflict and makes no AWS call, so a second NodeGroup cannot change limits or
 * scale a group another one manages. NodeGroups being deleted still count: the owner may be putting the
 * ASG's limits back, and the next in line takes over only once it is gone.
 */
export function asgOwners(claims: readonly NodeGroupClaim[]): Map<string, string> {
  const sorted = [...claims].sort((a, b) => {
    const time = (c: NodeGroupClaim) => (c.created ? new Date(c.created).getTime() : Number.NaN);
    const ta = Number.isNaN(time(a)) ? Number.MAX_SAFE_INTEGER : time(a);
    const tb = Number.isNaN(time(b)) ? Number.MAX_SAFE_INTEGER : time(b);
    return ta - tb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
  const out = new Map<string, string>();
  for (const c of sorted) if (!out.has(c.asgName)) out.set(c.asgName, c.name);
  return out;
}

export type LimitsRestore =
  | { action: 'none' }
  | { action: 'write'; limits: AsgLimits; message: string }
  | { action: 'leave'; message: string };

/**
 * What to do with the ASG's limits when the NodeGroup that changed them goes (deleted, or
 * `manageAsgLimits` turned off):
 * - still what the operator set: back to what it found, except that the range keeps the current
 *   desired capacity (MaxSize not below it, MinSize not above it): putting limits back never
 *   terminates running nodes; the message says what could not be restored;
 * - changed by someone else since: left as they are (their change wins);
 * - already as found: nothing.
 */
export function limitsRestore(record: LimitsRecord, asg: Limits & { desiredCapacity: number }): LimitsRestore {
  const { before, set } = record;
  if (asg.minSize === before.minSize && asg.maxSize === before.maxSize) return { action: 'none' };
  if (asg.minSize !== set.minSize || asg.maxSize !== set.maxSize) {
    return {
      action: 'leave',
      message: `ASG ${record.asgName} MinSize/MaxSize left at ${asg.minSize}/${asg.maxSize}: changed since the operator set ${set.minSize}/${set.maxSize}, so not put back to ${before.minSize}/${before.maxSize}`,
    };
  }
  const minSize = Math.min(before.minSize, asg.desiredCapacity);
  const maxSize = Math.max(before.maxSize, asg.desiredCapacity);
  const partial = minSize !== before.minSize || maxSize !== before.maxSize;
  return {
    action: 'write',
    limits: { MinSize: minSize, MaxSize: maxSize },
    message:
      `ASG ${record.asgName} MinSize/MaxSize ${asg.minSize}/${asg.maxSize} -> ${minSize}/${maxSize}, as found before the operator changed them` +
      (partial ? ` (found ${before.minSize}/${before.maxSize}; kept around the ${asg.desiredCapacity} running instance(s) rather than terminate any)` : ''),
  };
}
