// The lb-operator: informers on Services, NetworkLoadBalancers and Nodes; three controllers (Service →
// CR, CR → AWS, orphan sweep) on core's runtime, which brings leader election, /metrics, /healthz,
// /readyz, backoff and graceful shutdown.
import type { KubeConfig, V1Node, V1Service } from '@kubernetes/client-node';
import { installCrds, type NetworkLoadBalancer } from '@kube-iaas/crds';
import {
  Operator,
  awsClientOptions,
  awsFlags,
  controllerOf,
  deepEqual,
  flag,
  metaOrSpecChanged,
  objectKey,
  resources,
} from '@kube-iaas/core/runtime';
import { createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import { type Logger } from '@kube-iaas/core/log';
import { NLB_RESOURCE, OPERATOR_NAME } from './constants.ts';
import { AwsEnvironment } from './aws/environment.ts';
import { Inventory } from './aws/inventory.ts';
import { nlbReconciler } from './controllers/nlb.ts';
import { serviceReconciler } from './controllers/service.ts';
import { SWEEP_KEY, sweepReconciler } from './controllers/sweep.ts';
import { BackendGroups } from './aws/backend.ts';
import { instanceIdOf } from './plan/desired.ts';
import { selectService, serviceHostname } from './translate/index.ts';
import { DEFAULT_MAX_SOURCE_RANGES, parsePortRange, parsePortRanges, type PortPolicy } from './plan/ports.ts';

export const lbFlags = {
  'vpc-id': flag.string({ description: 'VPC of the load balancers and target groups; default: the VPC of the target instances.', env: 'VPC_ID', default: '' }),
  'orphan-sweep-interval': flag.duration({
    description: 'How often to look for NLBs, target groups and rules of deleted NetworkLoadBalancers and remove them (0 disables).',
    default: 300_000,
    min: 0,
  }),
  'install-crds': flag.bool({ description: 'Install (server-side apply) the NetworkLoadBalancer CRD at start; turn off when manifests install it.', default: true }),
  'manage-security-group-rules': flag.bool({
    description:
      'Give each NLB its own frontend security group (client CIDRs on the listener ports) and the shared backend group, which the cluster-tagged node security group trusts on the allowed node ports. Off: NLBs get no security groups and the operator adds no rules.',
    default: true,
  }),
  'node-port-range': flag.string({
    description: "The API server's --service-node-port-range: load balancers may only send traffic and health checks to these node ports (the operator cannot read the API server's flags).",
    default: '30000-32767',
    validate: (v) => (parsePortRange(v) ? undefined : 'must be a port range such as 30000-32767'),
  }),
  'allowed-target-ports': flag.list({
    description: 'Node ports outside --node-port-range that load balancers may also reach, cluster-wide (e.g. 8443,9000-9100). Empty: none.',
    default: [],
    validate: (v) => {
      const r = parsePortRanges(v);
      return r.ok ? undefined : `"${r.item}" is not a port or port range such as 9000-9100`;
    },
  }),
  'max-source-ranges': flag.int({
    description: 'Client CIDRs one NetworkLoadBalancer may open (spec.sourceRanges / aws-load-balancer-source-ranges), counted after merging adjacent and contained blocks.',
    default: DEFAULT_MAX_SOURCE_RANGES,
    min: 1,
    max: 60,
  }),
  ...awsFlags,
} as const;

export interface LbOperatorOptions {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  kubeConfig?: KubeConfig;
  logger?: Logger;
}

/** True when a Node change can change a load balancer's targets. */
function targetRelevant(a: V1Node, b: V1Node | undefined): boolean {
  if (!b) return true;
  return instanceIdOf(a) !== instanceIdOf(b) || !deepEqual(a.metadata?.labels ?? {}, b.metadata?.labels ?? {}) || !!a.metadata?.deletionTimestamp !== !!b.metadata?.deletionTimestamp;
}

export class LbOperator extends Operator<typeof lbFlags> {
  aws: AwsClients | undefined;
  inventory: Inventory | undefined;

  constructor(opts: LbOperatorOptions = {}) {
    super({ name: OPERATOR_NAME, flags: lbFlags, ...opts });
  }

  protected override async init(): Promise<void> {
    const cfg = this.config;
    if (cfg.installCrds) {
      await installCrds(this.kubeConfig, { kinds: ['NetworkLoadBalancer'], fieldManager: 'kube-iaas-lb-operator' });
      this.log.info('NetworkLoadBalancer CRD installed');
    }
    const clients = await createAwsClients({ cluster: cfg.clusterName, logger: this.log, ...awsClientOptions(cfg) });
    this.aws = clients;
    const env = new AwsEnvironment(clients, { vpcId: cfg.vpcId });
    const inventory = new Inventory(clients);
    this.inventory = inventory;
    const allowed = parsePortRanges(cfg.allowedTargetPorts);
    const policy: PortPolicy = {
      nodePortRange: parsePortRange(cfg.nodePortRange) ?? { from: 30000, to: 32767 },
      allowedTargetPorts: allowed.ok ? allowed.ranges : [],
      maxSourceRanges: cfg.maxSourceRanges,
    };
    const backend = cfg.manageSecurityGroupRules ? new BackendGroups(clients, policy) : undefined;

    const services = this.informer<V1Service>(resources.Service);
    const nlbs = this.informer<NetworkLoadBalancer>(NLB_RESOURCE);
    const nodes = this.informer<V1Node>(resources.Node);
    const base = { client: this.client, events: this.events, statusWriter: this.statusWriter };

    // Status-only updates (our own writes) wake nothing: only what can change the outcome does.
    // A Service status that no longer shows its own NLB's hostname (written by someone else) wakes stage 1
    // at once; our own write makes them equal, so it wakes nothing.
    const hostnameStale = (svc: V1Service) => {
      const want = serviceHostname(svc, nlbs.get(objectKey(svc)));
      return typeof want === 'string' && svc.status?.loadBalancer?.ingress?.[0]?.hostname !== want;
    };
    const svcCtl = this.controller({ name: 'service', reconcile: serviceReconciler({ ...base, services, nlbs }), resyncKeys: () => services.keys() });
    svcCtl.watch(services, undefined, {
      filter: (svc, old) => metaOrSpecChanged(svc, old) || (!deepEqual(svc.status?.loadBalancer, old.status?.loadBalancer) && hostnameStale(svc)),
    });
    const controlledByService = (cr: NetworkLoadBalancer) => controllerOf(cr)?.kind === 'Service';
    nlbs.on({
      add: (cr) => controlledByService(cr) && svcCtl.enqueue(objectKey(cr)),
      delete: (cr) => controlledByService(cr) && svcCtl.enqueue(objectKey(cr)),
      // The DNS name in status is what stage 1 copies into the Service.
      update: (cr, old) =>
        controlledByService(cr) && (old === undefined || metaOrSpecChanged(cr, old) || cr.status?.dnsName !== old.status?.dnsName) && svcCtl.enqueue(objectKey(cr)),
    });

    const nlbCtl = this.controller({ name: 'networkloadbalancer', reconcile: nlbReconciler({ ...base, clients, env, inventory, nlbs, services, nodes, manageSecurityGroupRules: cfg.manageSecurityGroupRules, policy, ...(backend ? { backend } : {}) }), resyncKeys: () => nlbs.keys() });
    nlbCtl.watch(nlbs, undefined, { filter: metaOrSpecChanged });
    // A Service's ports (NodePorts) feed the target groups of every NetworkLoadBalancer naming it, and
    // whether it is ours decides whether a hand-applied one naming it is in conflict.
    const wakeNaming = (svc: V1Service) => {
      for (const cr of nlbs.list()) {
        if (cr.metadata.namespace === svc.metadata?.namespace && cr.spec.serviceRef?.name === svc.metadata?.name) nlbCtl.enqueue(objectKey(cr));
      }
    };
    services.on({
      update: (svc, old) => {
        if (
          old !== undefined &&
          deepEqual(svc.spec?.ports, old.spec?.ports) &&
          !!svc.metadata?.deletionTimestamp === !!old.metadata?.deletionTimestamp &&
          selectService(svc) === selectService(old)
        )
          return;
        wakeNaming(svc);
      },
      add: wakeNaming,
      delete: wakeNaming,
    });
    // Targets follow the Nodes: a Node joining, leaving or relabelled wakes every CR that uses Nodes.
    const wakeAll = () => {
      for (const cr of nlbs.list()) if (!cr.spec.targets?.instanceIds?.length) nlbCtl.enqueue(objectKey(cr));
    };
    nodes.on({ add: wakeAll, delete: wakeAll, update: (n, old) => (old === undefined || targetRelevant(n, old) ? wakeAll() : undefined) });

    if (cfg.orphanSweepInterval > 0) {
      this.controller({
        name: 'orphan-sweep',
        workers: 1,
        resyncPeriodMs: 0,
        resyncKeys: () => [SWEEP_KEY],
        reconcile: sweepReconciler({ client: this.client, clients, env, inventory, nlbs, events: this.events, intervalMs: cfg.orphanSweepInterval }),
      });
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.aws?.destroy();
  }
}
