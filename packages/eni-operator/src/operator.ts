// The eni-operator: informers on Nodes, Pods and EniPools; a Node controller (stage 1: Node →
// EniPool), an allocator (pods → addresses from the recorded pool, no AWS call), a pool controller
// (stage 2: EniPool → ENIs and addresses in AWS, on its own queue so growth never delays an
// allocation), and a leaked-ENI sweep, on core's runtime (leader election, /metrics, /healthz,
// /readyz, backoff).
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { installCrds, type EniPool } from '@kube-iaas/crds';
import { InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import { Operator, awsClientOptions, awsFlags, deepEqual, flag, objectKey, resources, slimPod } from '@kube-iaas/core/runtime';
import { createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import { type Logger } from '@kube-iaas/core/log';
import { ENI_POOL_RESOURCE, IP_ANNOTATION, OPERATOR_NAME } from './constants.ts';
import { nodeReconciler } from './controllers/node.ts';
import { allocatorReconciler } from './controllers/allocator.ts';
import { POD_NODE_INDEX, PodClock, wantsAddress } from './controllers/pods.ts';
import { poolReconciler } from './controllers/pool.ts';
import { PoolStore } from './controllers/store.ts';
import { INSTANCE_INDEX, nodeInstance, poolInstance } from './controllers/claim.ts';
import { poolMetrics } from './controllers/metrics.ts';
import { SWEEP_KEY, sweepReconciler } from './controllers/sweep.ts';
import { parseZoneSubnets, type PoolDefaults } from './translate/index.ts';

export const eniFlags = {
  'warm-eni': flag.int({ description: 'Default spec.warmEni of new EniPools: spare ENIs\' worth of free addresses (VPC CNI WARM_ENI_TARGET).', default: 1, min: 0 }),
  'warm-ip': flag.int({ description: 'Default spec.warmIp: free addresses to keep ready (WARM_IP_TARGET); takes precedence over --warm-eni.', min: 0 }),
  'minimum-ip': flag.int({ description: 'Default spec.minimumIp: addresses a pool holds at least (MINIMUM_IP_TARGET).', min: 0 }),
  cooldown: flag.duration({ description: 'Default spec.cooldownSeconds: how long a released address rests before reuse or release.', default: 30_000, min: 0 }),
  'shrink-policy': flag.string({ description: 'Default spec.shrinkPolicy.', default: 'Release', choices: ['Release', 'Keep'] }),
  'eni-subnets': flag.list({ description: 'Custom networking: <zone>=subnet-… pairs; new ENIs of nodes in that zone go to that subnet.', default: [] }),
  'eni-security-groups': flag.list({ description: 'Security groups for new ENIs (default: those of each instance\'s primary ENI).', default: [] }),
  'leaked-eni-sweep-interval': flag.duration({ description: 'How often to look for leaked ENIs (0 disables).', default: 300_000, min: 0 }),
  'leaked-eni-grace': flag.duration({ description: 'How old an available ENI must be before it counts as leaked.', default: 300_000, min: 0 }),
  'install-crds': flag.bool({ description: 'Install (server-side apply) the EniPool CRD at start; turn off when manifests install it.', default: true }),
  ...awsFlags,
} as const;

export interface EniOperatorOptions {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  kubeConfig?: KubeConfig;
  logger?: Logger;
}

/** True when a pod change can change its address: binding, phase to finished, deletion, the annotation changed by someone else. */
function podRelevant(p: V1Pod, old: V1Pod | undefined): boolean {
  if (!old) return true;
  return (
    p.spec?.nodeName !== old.spec?.nodeName ||
    wantsAddress(p) !== wantsAddress(old) ||
    !!p.metadata?.deletionTimestamp !== !!old.metadata?.deletionTimestamp ||
    // Our own annotation appearing wakes nothing; one removed or changed by someone else is put back.
    (old.metadata?.annotations?.[IP_ANNOTATION] !== undefined && p.metadata?.annotations?.[IP_ANNOTATION] !== old.metadata.annotations[IP_ANNOTATION])
  );
}

export class EniOperator extends Operator<typeof eniFlags> {
  aws: AwsClients | undefined;

  constructor(opts: EniOperatorOptions = {}) {
    super({ name: OPERATOR_NAME, flags: eniFlags, ...opts });
  }

  protected override async init(): Promise<void> {
    const cfg = this.config;
    if (cfg.installCrds) {
      await installCrds(this.kubeConfig, { kinds: ['EniPool'], fieldManager: 'kube-iaas-eni-operator' });
      this.log.info('EniPool CRD installed');
    }
    const defaults: PoolDefaults = {
      warmEni: cfg.warmEni,
      cooldownSeconds: Math.round(cfg.cooldown / 1000),
      shrinkPolicy: cfg.shrinkPolicy as 'Release' | 'Keep',
      subnetsByZone: parseZoneSubnets(cfg.eniSubnets),
    };
    if (cfg.warmIp !== undefined) defaults.warmIp = cfg.warmIp;
    if (cfg.minimumIp !== undefined) defaults.minimumIp = cfg.minimumIp;
    if (cfg.eniSecurityGroups.length) defaults.securityGroupIds = cfg.eniSecurityGroups;

    const clients = await createAwsClients({ cluster: cfg.clusterName, logger: this.log, ...awsClientOptions(cfg) });
    this.aws = clients;
    const catalog = new InstanceTypeCatalog(clients.ec2);

    const nodes = this.informer<V1Node>(resources.Node, { indexers: { [INSTANCE_INDEX]: nodeInstance } });
    const pools = this.informer<EniPool>(ENI_POOL_RESOURCE, { indexers: { [INSTANCE_INDEX]: poolInstance } });
    // slimPod: the cache keeps where pods run, not how they run (core's bench/informer-memory.ts)
    const pods = this.informer<V1Pod>(resources.Pod, { indexers: { [POD_NODE_INDEX]: (p) => p.spec?.nodeName }, transform: slimPod });
    const base = { client: this.client, events: this.events };

    const nodeCtl = this.controller({ name: 'node', reconcile: nodeReconciler({ ...base, nodes, pools, defaults }), resyncKeys: () => nodes.keys() });
    nodes.on({
      add: (n) => nodeCtl.enqueue(objectKey(n)),
      delete: (n) => nodeCtl.enqueue(objectKey(n)),
      update: (n, old) => (old === undefined || n.spec?.providerID !== old.spec?.providerID || !deepEqual(n.metadata?.labels, old.metadata?.labels) ? nodeCtl.enqueue(objectKey(n)) : undefined),
    });
    pools.on({ add: (p) => nodeCtl.enqueue(objectKey(p)), delete: (p) => nodeCtl.enqueue(objectKey(p)) });

    const store = new PoolStore(pools, this.client, this.statusWriter, (pool, a) => {
      poolMetrics.pendingConflicts.inc();
      this.log.warn({ pool, pod: `${a.podNamespace}/${a.podName}`, ip: a.ip }, 'a grant annotated before it was recorded is contradicted by the record (another writer took the address); the pod gets a new address');
    });
    const clock = new PodClock();
    // The two controllers wake each other; the allocator is made first.
    const wake = { pool: (_name: string): void => undefined };
    const changing = new Set<string>();
    const allocCtl = this.controller({
      name: 'allocator',
      reconcile: allocatorReconciler({
        ...base,
        store,
        pods,
        clock,
        wakePool: (n) => wake.pool(n),
        requeue: (n, failed) => (failed ? void allocCtl.queue.addRateLimited(n) : allocCtl.enqueue(n)),
        soleAllocator: () => this.soleLeader,
        log: this.log.child({ controller: 'allocator' }),
      }),
      resyncKeys: () => pools.keys(),
    });
    const pool = this.controller({
      name: 'enipool',
      reconcile: poolReconciler({
        ...base,
        clients,
        catalog,
        store,
        pods,
        nodes,
        pools,
        allowed: { subnetIds: Object.values(defaults.subnetsByZone ?? {}), securityGroupIds: defaults.securityGroupIds ?? [] },
        changing,
        emulatorQuirks: cfg.awsEmulatorQuirks,
        wakeAllocator: (n) => allocCtl.enqueue(n),
      }),
      resyncKeys: () => pools.keys(),
    });
    wake.pool = (n) => (changing.has(n) ? undefined : pool.enqueue(n));
    // Which pool holds an instance changes with the pools and Nodes naming it: each other pool naming
    // that instance looks again (the one in conflict may now hold it, or lose it).
    const wakeClaimants = (instanceId: string | undefined, except?: string) => {
      if (instanceId) for (const p of pools.byIndex(INSTANCE_INDEX, instanceId)) if (objectKey(p) !== except) pool.enqueue(objectKey(p));
    };
    nodes.on({
      add: (n) => wakeClaimants(nodeInstance(n)),
      delete: (n) => wakeClaimants(nodeInstance(n)),
      update: (n, old) => (old && nodeInstance(n) !== nodeInstance(old) ? (wakeClaimants(nodeInstance(n)), wakeClaimants(nodeInstance(old))) : undefined),
    });
    pools.on({
      add: (p) => (pool.enqueue(objectKey(p)), allocCtl.enqueue(objectKey(p)), wakeClaimants(poolInstance(p), objectKey(p))),
      delete: (p) => (pool.enqueue(objectKey(p)), store.forget(objectKey(p)), wakeClaimants(poolInstance(p), objectKey(p))),
      update: (p, old) => {
        if (old && poolInstance(p) !== poolInstance(old)) {
          wakeClaimants(poolInstance(p), objectKey(p));
          wakeClaimants(poolInstance(old), objectKey(p));
        }
        // Spec, finalizers and deletion wake the pool controller; a status this process did not write
        // (another replica's) wakes the allocator. Our own writes wake nothing.
        if (old === undefined || p.metadata.generation !== old.metadata.generation || !!p.metadata.deletionTimestamp !== !!old.metadata.deletionTimestamp || !deepEqual(p.metadata.finalizers, old.metadata.finalizers)) pool.enqueue(objectKey(p));
        if (!store.known(p) && !deepEqual(p.status, old?.status)) allocCtl.enqueue(objectKey(p));
      },
    });
    const wakeNode = (p: V1Pod) => (p.spec?.nodeName && !p.spec.hostNetwork ? allocCtl.enqueue(p.spec.nodeName) : undefined);
    pods.on({
      add: (p) => (clock.observe(p), wakeNode(p)),
      delete: (p) => (clock.deleted(p), wakeNode(p)),
      update: (p, old) => {
        clock.observe(p);
        if (!podRelevant(p, old)) return;
        wakeNode(p);
        if (old && old.spec?.nodeName !== p.spec?.nodeName) wakeNode(old);
      },
    });

    if (cfg.leakedEniSweepInterval > 0) {
      this.controller({
        name: 'leaked-eni-sweep',
        workers: 1,
        resyncPeriodMs: 0,
        resyncKeys: () => [SWEEP_KEY],
        reconcile: sweepReconciler({ clients, pools, events: this.events, intervalMs: cfg.leakedEniSweepInterval, graceMs: cfg.leakedEniGrace }),
      });
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.aws?.destroy();
  }
}
