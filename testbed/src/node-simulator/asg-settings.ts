import { parseNodeTemplate, type Tags } from '@kube-iaas/core/tags';
import type { V1Taint } from '@kubernetes/client-node';

/**
 * Testbed-only ASG tags that change how the simulated kubelets of the group's instances behave, so
 * an integration test can set them per group, at any time, without restarting the simulator:
 * - `testbed.kube-iaas.dev/never-join` = `true`: the instances never become Nodes (a bad AMI, a
 *   bootstrap script that fails): what a scaler's provision timeout is for;
 * - `testbed.kube-iaas.dev/join-delay-seconds` = N: a Node registers N seconds after the simulator
 *   first saw its instance running (a slow boot), instead of within a second.
 */
export const NEVER_JOIN_TAG = 'testbed.kube-iaas.dev/never-join';
export const JOIN_DELAY_TAG = 'testbed.kube-iaas.dev/join-delay-seconds';

/** The tag an instance launched by an Auto Scaling group carries (set by AWS, and by moto). */
export const ASG_NAME_INSTANCE_TAG = 'aws:autoscaling:groupName';

/** How the instances of one ASG register, from the group's tags. */
export interface AsgNodeSettings {
  /**
   * What a real node of the group gets from `--node-labels` / `--register-with-taints` in its user
   * data, which is what the cluster autoscaler's node-template tags describe: applied at registration.
   */
  labels: Record<string, string>;
  taints: V1Taint[];
  neverJoin: boolean;
  joinDelayMs: number;
}

export const NO_ASG_SETTINGS: AsgNodeSettings = { labels: {}, taints: [], neverJoin: false, joinDelayMs: 0 };

export function asgNodeSettings(tags: Tags): AsgNodeSettings {
  // Lenient, like a kubelet given the flags: a tag the template parser cannot read is not applied.
  const t = parseNodeTemplate(tags);
  const delay = Number(tags[JOIN_DELAY_TAG] ?? '0');
  return {
    labels: t.labels,
    taints: t.taints.map((x) => ({ key: x.key, ...(x.value ? { value: x.value } : {}), effect: x.effect })),
    neverJoin: tags[NEVER_JOIN_TAG] === 'true',
    joinDelayMs: Number.isFinite(delay) && delay > 0 ? delay * 1000 : 0,
  };
}
