/**
 * Status conditions in the shape of `metav1.Condition`, which `kubectl wait --for=condition=Ready`
 * and every dashboard understand.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable: `Provisioned`, `AwsThrottled`, `InvalidAnnotation`. */
  reason: string;
  /** Human-readable detail, e.g. the AWS error message. */
  message: string;
  /** The `.metadata.generation` the condition was computed from. */
  observedGeneration?: number;
  /** When `status` last changed (RFC 3339). */
  lastTransitionTime: string;
}

/** What a reconcile says about a condition; the helper fills in lastTransitionTime. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus | boolean;
  reason: string;
  message?: string;
  observedGeneration?: number;
}

/** The condition types every kube-iaas custom resource reports. */
export const ConditionType = {
  /** The AWS side matches the spec and is usable. */
  Ready: 'Ready',
  /** The last reconcile completed without error (False with the error as message otherwise). */
  Synced: 'Synced',
} as const;

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const MAX_MESSAGE = 32_768;

function toStatus(s: ConditionStatus | boolean): ConditionStatus {
  return s === true ? 'True' : s === false ? 'False' : s;
}

/** RFC 3339 with second precision, which is what metav1.Time serialises to. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Returns a new conditions array with `update` applied. `lastTransitionTime` is kept when the
 * status did not flip (a new reason or message alone is not a transition) and set to `now` when it
 * did or the condition is new. Other conditions are kept in order; the input is not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): Condition[] {
  if (!REASON.test(update.reason)) {
    throw new Error(`condition ${update.type}: reason must be CamelCase letters/digits (got ${JSON.stringify(update.reason)})`);
  }
  const status = toStatus(update.status);
  const message = (update.message ?? '').slice(0, MAX_MESSAGE);
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === update.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: update.type,
    status,
    reason: update.reason,
    message,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** Applies several updates in order. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  now: Date = new Date(),
): Condition[] {
  let out = [...(conditions ?? [])];
  for (const u of updates) out = setCondition(out, u, now);
  return out;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** `Ready` condition update. */
export function readyCondition(
  ready: boolean | ConditionStatus,
  reason: string,
  message = '',
  observedGeneration?: number,
): ConditionUpdate {
  return { type: ConditionType.Ready, status: ready, reason, message, ...(observedGeneration !== undefined ? { observedGeneration } : {}) };
}

/** `Synced` condition update: True after a clean reconcile, False with the error otherwise. */
export function syncedCondition(
  synced: boolean | ConditionStatus,
  reason: string,
  message = '',
  observedGeneration?: number,
): ConditionUpdate {
  return { type: ConditionType.Synced, status: synced, reason, message, ...(observedGeneration !== undefined ? { observedGeneration } : {}) };
}

/** True when two condition lists say the same thing (same order-independent set of conditions). */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (const c of x) {
    const d = getCondition(y, c.type);
    if (
      !d ||
      d.status !== c.status ||
      d.reason !== c.reason ||
      d.message !== c.message ||
      d.observedGeneration !== c.observedGeneration ||
      d.lastTransitionTime !== c.lastTransitionTime
    ) {
      return false;
    }
  }
  return true;
}
