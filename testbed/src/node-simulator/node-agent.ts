import type { V1Pod } from '@kubernetes/client-node';
import type { SimInstance } from './node-object.ts';

/**
 * A part of the kubelet the simulator can run for real (the CSI volume manager, a CNI plugin...).
 * The simulator calls each agent's hooks in order; every hook is optional. A hook that throws is
 * logged and retried on the next poll, as kubelet retries.
 */
export interface NodeAgent {
  /** Before the first node registers: clean what a previous run left, load what it needs. */
  start?(): Promise<void>;
  /** At simulator stop, also on SIGTERM: nothing the agent put on the machine may outlive it. */
  stop?(): Promise<void>;
  /** A node registered (its instance runs), before its pods are looked at. */
  nodeAdded?(inst: SimInstance): Promise<void>;
  /** Its instance no longer runs. */
  nodeRemoved?(inst: SimInstance): Promise<void>;
  /** Each poll, after the instances were synced. */
  sync?(): Promise<void>;
  /** Why the pod cannot start yet on that node (it stays Pending, ContainerCreating, with this message), or undefined. */
  podNotReady?(pod: V1Pod, inst: SimInstance): Promise<string | undefined>;
  /** The address a network plugin configured in the pod's namespace; the pod's status.podIP when set. */
  podIP?(pod: V1Pod, inst: SimInstance): string | undefined;
  /** The pod is being deleted (or is gone): undo what podNotReady set up, before the object goes. */
  podStopped?(pod: V1Pod, inst: SimInstance): Promise<void>;
  /**
   * The node's `status.volumesInUse` share (`kubernetes.io/csi/<driver>^<handle>`): the attach/detach
   * controller does not detach a volume listed there, so a volume is listed before it is mounted and
   * until it is unmounted. The simulator posts the node's status whenever the list changes.
   */
  volumesInUse?(inst: SimInstance): string[];
}
