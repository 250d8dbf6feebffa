import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  awsClientOptions,
  Operator,
  resources,
  slimPod,
  type ConfigOf,
  type OperatorOptions,
  type ResourceType,
  type runtimeFlags,
} from '@kube-iaas/core/runtime';
import { createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import { InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import { installCrds, type NodeGroup } from '@kube-iaas/crds';
import { OPERATOR_NAME } from './constants.ts';
import { scalerFlags } from './config.ts';
import { AutoScalingProvider } from './aws/provider.ts';
import { PendingBatcher } from './controllers/batcher.ts';
import { BY_CONTROLLER, controllerUid } from './controllers/workloads.ts';
import { trimWorkload, type WorkloadObject } from './plan/expected.ts';
import { NODE_GROUP_TYPE, Scaler, type ScalerSettings } from './controllers/scaler.ts';
import type { V1DaemonSet as DaemonSet, V1Node as Node, V1PersistentVolume as PersistentVolume, V1PersistentVolumeClaim as PersistentVolumeClaim, V1Pod as Pod } from '@kubernetes/client-node';
import { isDaemonSetPod, isUnschedulable, podKey } from './plan/pod.ts';
import type { ExpanderName } from './plan/expander.ts';
import { resourceAmount } from './quantity.ts';

const DAEMONSET: ResourceType = { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true };
const REPLICASET: ResourceType = { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true };
const STATEFULSET: ResourceType = { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true };
const JOB: ResourceType = { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true };

export type ScalerConfig = ConfigOf<typeof runtimeFlags & typeof scalerFlags>;

export interface ScalerOperatorOptions extends Omit<OperatorOptions<typeof scalerFlags>, 'name' | 'flags'> {
  /** Use these AWS clients instead of creating them (tests). */
  aws?: AwsClients;
}

/** Settings of the scaler loop from the parsed flags. */
export function settingsFrom(c: ScalerConfig, region: string): ScalerSettings {
  return {
    cluster: c.clusterName,
    region,
    autoDiscovery: c.nodeGroupAutoDiscovery,
    expander: c.expander as ExpanderName,
    maxNodesTotal: c.maxNodesTotal,
    reserved: {
      cpu: resourceAmount('cpu', c.reservedCpu),
      memory: resourceAmount('memory', c.reservedMemory),
      'ephemeral-storage': resourceAmount('ephemeral-storage', c.reservedEphemeralStorage),
    },
    nodeEphemeralStorage: resourceAmount('ephemeral-storage', c.nodeEphemeralStorage),
    provisionTimeoutMs: c.provisionTimeout,
    backoffMs: c.scaleUpBackoff,
    backoffMaxMs: c.scaleUpBackoffMax,
    scaleDownEnabled: c.scaleDownEnabled,
    utilizationThreshold: c.scaleDownUtilizationThreshold,
    unneededMs: c.scaleDownUnneededTime,
    delayAfterAddMs: c.scaleDownDelayAfterAdd,
    maxEmptyBulkDelete: c.maxEmptyBulkDelete,
    maxGracefulTerminationMs: c.maxGracefulTermination,
    evictionRetryMs: c.evictionRetry,
  };
}

/**
 * The scaler-operator: unschedulable pods grow Auto Scaling groups through NodeGroups, idle nodes
 * are drained and removed. Informers run on every replica; the scaler loop runs on the leader.
 */
export class ScalerOperator extends Operator<typeof scalerFlags> {
  readonly #awsOverride: AwsClients | undefined;
  aws: AwsClients | undefined;
  scaler: Scaler | undefined;
  #batcher: PendingBatcher | undefined;

  constructor(opts: ScalerOperatorOptions = {}) {
    super({
      ...opts,
      name: OPERATOR_NAME,
      flags: scalerFlags,
      check: (c) => (c.batchMax < c.batchIdle ? [`--batch-max must not be shorter than --batch-idle`] : []),
    });
    this.#awsOverride = opts.aws;
  }

  protected async init(): Promise<void> {
    const c = this.config as ScalerConfig;
    if (c.installCrds) {
      await installCrds(this.kubeConfig, { kinds: ['NodeGroup'], fieldManager: 'kube-iaas-scaler-operator' });
      this.log.info('NodeGroup CRD applied');
    }
    this.aws = this.#awsOverride ?? (await createAwsClients({ cluster: c.clusterName, logger: this.log, ...awsClientOptions(c) }));
    const asg: AutoScalingClient = this.aws.autoScaling;
    // slimPod: the planner reads requests, restartPolicy and scheduling constraints, never command/env/probes
    const pods = this.informer<Pod>(resources.Pod, { indexers: { byNode: (p) => p.spec?.nodeName, [BY_CONTROLLER]: controllerUid }, transform: slimPod });
    // the pod counts workload controllers declare (their pod templates are dropped from the cache)
    const workload = (t: ResourceType) => this.informer<WorkloadObject>(t, { transform: trimWorkload });
    const workloads = { pods, replicaSets: workload(REPLICASET), jobs: workload(JOB), statefulSets: workload(STATEFULSET) };
    const nodes = this.informer<Node>(resources.Node);
    const nodeGroups = this.informer<NodeGroup>(NODE_GROUP_TYPE);
    const daemonSets = this.informer<DaemonSet>(DAEMONSET);
    const pvcs = this.informer<PersistentVolumeClaim>(resources.PersistentVolumeClaim);
    const pvs = this.informer<PersistentVolume>(resources.PersistentVolume);

    const ctl = this.controller({
      name: 'scaler',
      workers: 1,
      resyncKeys: () => ['run'],
      reconcile: async () => {
        await this.scaler!.run();
        return { requeueAfter: c.scanInterval };
      },
    });
    this.#batcher = new PendingBatcher({ idleMs: c.batchIdle, maxMs: c.batchMax, fire: () => ctl.enqueue('run') });
    const batcher = this.#batcher;
    const unschedulable = (p: Pod, newly: boolean): void => {
      batcher.add(podKey(p));
      // a pod of a workload whose declared count no plan covered yet: its whole workload is planned now
      if (newly && this.scaler?.wantsPlan(p)) ctl.enqueue('run');
    };
    pods.on({
      add: (p) => (isUnschedulable(p) && !isDaemonSetPod(p) ? unschedulable(p, true) : undefined),
      update: (p, o) => (isUnschedulable(p) && !isDaemonSetPod(p) ? unschedulable(p, !o || !isUnschedulable(o)) : batcher.forget(podKey(p))),
      delete: (p) => batcher.forget(podKey(p)),
    });
    // A changed NodeGroup (spec edited, created by hand, being deleted: its ASG limits go back) is looked at at once.
    nodeGroups.on({
      add: () => ctl.enqueue('run'),
      update: (n, o) => (n.metadata.generation !== o?.metadata.generation || (!!n.metadata.deletionTimestamp && !o?.metadata.deletionTimestamp) ? ctl.enqueue('run') : undefined),
    });

    this.scaler = new Scaler({
      settings: settingsFrom(c, this.aws.region),
      kube: this.client,
      events: this.events,
      status: this.statusWriter,
      log: this.log,
      provider: new AutoScalingProvider(asg, this.aws.ec2, c.clusterName),
      catalog: new InstanceTypeCatalog(this.aws.ec2),
      pods,
      nodes,
      nodeGroups,
      daemonSets,
      pvcs,
      pvs,
      workloads,
      batchHolds: (key) => batcher.holds(key),
    });
  }

  override async stop(): Promise<void> {
    this.#batcher?.stop();
    await super.stop();
    if (!this.#awsOverride) this.aws?.destroy();
  }
}
