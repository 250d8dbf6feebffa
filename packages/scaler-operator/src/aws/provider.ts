import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LaunchInfo } from '../template/build.ts';
import { describeGroups, discoverGroups, failedActivities, LaunchInfoReader, setDesiredCapacity, terminateInstance, updateAsgLimits, type AsgLimits, type AsgView } from './groups.ts';

/**
 * What the plans need from the cloud's node groups, and nothing else: the Auto Scaling API stands
 * behind it in production; another provider (EC2 Fleet) or a stub in unit tests can. Every mutating
 * call of the Auto Scaling implementation passes core's ownership guard (the client is guarded).
 */
export interface NodeGroupProvider {
  /** Groups carrying the discovery tags for this cluster. */
  discover(): Promise<AsgView[]>;
  /** The groups with these names; missing names are absent. */
  describe(names: readonly string[]): Promise<Map<string, AsgView>>;
  /** Instance types and root volume of the group's launch template / configuration / mixed-instances policy. */
  launchInfo(group: AsgView): Promise<LaunchInfo>;
  /** Scaling activities that failed since `since`. */
  failedActivities(group: string, since: Date): Promise<{ description: string; message: string }[]>;
  /** Sets the desired capacity at once (no cooldown). */
  setDesired(group: string, desired: number): Promise<void>;
  /** Terminates one instance and shrinks its group by one. */
  terminate(instanceId: string): Promise<void>;
  /** Writes the group's own MinSize/MaxSize (and a clamped desired capacity). */
  updateLimits(group: string, limits: AsgLimits): Promise<void>;
}

/** The Auto Scaling API behind `NodeGroupProvider`. */
export class AutoScalingProvider implements NodeGroupProvider {
  readonly #asg: AutoScalingClient;
  readonly #cluster: string;
  readonly #launch: LaunchInfoReader;

  constructor(asg: AutoScalingClient, ec2: EC2Client, cluster: string, launch: LaunchInfoReader = new LaunchInfoReader(ec2, asg)) {
    this.#asg = asg;
    this.#cluster = cluster;
    this.#launch = launch;
  }

  discover(): Promise<AsgView[]> {
    return discoverGroups(this.#asg, this.#cluster);
  }

  describe(names: readonly string[]): Promise<Map<string, AsgView>> {
    return describeGroups(this.#asg, names);
  }

  launchInfo(group: AsgView): Promise<LaunchInfo> {
    return this.#launch.read(group);
  }

  failedActivities(group: string, since: Date): Promise<{ description: string; message: string }[]> {
    return failedActivities(this.#asg, group, since);
  }

  setDesired(group: string, desired: number): Promise<void> {
    return setDesiredCapacity(this.#asg, group, desired);
  }

  terminate(instanceId: string): Promise<void> {
    return terminateInstance(this.#asg, instanceId);
  }

  updateLimits(group: string, limits: AsgLimits): Promise<void> {
    return updateAsgLimits(this.#asg, group, limits);
  }
}
