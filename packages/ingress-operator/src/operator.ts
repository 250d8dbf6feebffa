// The ingress-operator: informers on Ingresses, IngressClasses, Services, Nodes and
// ApplicationLoadBalancers; three controllers (Ingress group → CR, CR → AWS, orphan sweep) on core's
// runtime, which brings leader election, /metrics, /healthz, /readyz, backoff and graceful shutdown.
import type { KubeConfig, V1Ingress, V1IngressClass, V1Node, V1Service } from '@kubernetes/client-node';
import { installCrds, type ApplicationLoadBalancer } from '@kube-iaas/crds';
import { AwsEnvironment, createAwsClients, type AwsClients } from '@kube-iaas/core/aws';
import {
  Operator,
  awsClientOptions,
  awsFlags,
  deepEqual,
  flag,
  isKubeAlreadyExists,
  metaOrSpecChanged,
  objectKey,
  resources,
} from '@kube-iaas/core/runtime';
import { type Logger } from '@kube-iaas/core/log';
import { INGRESS_CLASS_NAME, INGRESS_CONTROLLER, OPERATOR_NAME } from './constants.ts';

import { Inventory } from './aws/index.ts';
import { albReconciler } from './controllers/alb.ts';
import { ALB_RESOURCE, conflictsRequeueSoon, targetRelevant, translatedFromIngresses } from './controllers/common.ts';
import { ingressKeys, ingressReconciler, servicesOf } from './controllers/ingress.ts';
import { SWEEP_KEY, sweepReconciler } from './controllers/sweep.ts';
import { groupKeyOf } from './translate/index.ts';

export const ingressFlags = {
  'vpc-id': flag.string({ description: 'VPC of the load balancers and target groups; default: the VPC of the target instances.', env: 'VPC_ID', default: '' }),
  'orphan-sweep-interval': flag.duration({
    description: 'How often to look for ALBs, target groups, security groups and rules of deleted ApplicationLoadBalancers and remove them (0 disables).',
    default: 300_000,
    min: 0,
  }),
  'install-crds': flag.bool({ description: 'Install (server-side apply) the ApplicationLoadBalancer CRD at start; turn off when manifests install it.', default: true }),
  'install-ingress-class': flag.bool({ description: 'Create the IngressClass alb (controller kube-iaas.dev/alb) at start when it does not exist.', default: true }),
  ...awsFlags,
} as const;

export interface IngressOperatorOptions {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  kubeConfig?: KubeConfig;
  logger?: Logger;
}

/** What stage 1 reads from a CR's status: the DNS name for the Ingresses and whether stage 2 caught up. */
function stage1StatusChanged(a: ApplicationLoadBalancer, b: ApplicationLoadBalancer): boolean {
  return a.status?.dnsName !== b.status?.dnsName || a.status?.observedGeneration !== b.status?.observedGeneration;
}

export class IngressOperator extends Operator<typeof ingressFlags> {
  aws: AwsClients | undefined;

  constructor(opts: IngressOperatorOptions = {}) {
    super({ name: OPERATOR_NAME, flags: ingressFlags, ...opts });
  }

  protected override async init(): Promise<void> {
    const cfg = this.config;
    if (cfg.installCrds) {
      await installCrds(this.kubeConfig, { kinds: ['ApplicationLoadBalancer'], fieldManager: 'kube-iaas-ingress-operator' });
      this.log.info('ApplicationLoadBalancer CRD installed');
    }
    if (cfg.installIngressClass) await this.#installIngressClass();
    const clients = await createAwsClients({ cluster: cfg.clusterName, logger: this.log, ...awsClientOptions(cfg) });
    this.aws = clients;
    const env = new AwsEnvironment(clients, { vpcId: cfg.vpcId });
    const inventory = new Inventory(clients);

    const ingresses = this.informer<V1Ingress>(resources.Ingress);
    const classes = this.informer<V1IngressClass>(resources.IngressClass);
    const services = this.informer<V1Service>(resources.Service);
    const nodes = this.informer<V1Node>(resources.Node);
    const albs = this.informer<ApplicationLoadBalancer>(ALB_RESOURCE);
    const base = { client: this.client, events: this.events, statusWriter: this.statusWriter };

    // Stage 1, keyed by group (= the CR's key). Status-only updates (our own writes) wake nothing.
    const groupKeys = () => {
      const keys = new Set<string>();
      for (const i of ingresses.list()) for (const k of ingressKeys(i, undefined, classes.list())) keys.add(k);
      for (const cr of albs.list()) if (translatedFromIngresses(cr)) keys.add(objectKey(cr));
      return keys;
    };
    const ingCtl = this.controller({ name: 'ingress', reconcile: conflictsRequeueSoon(ingressReconciler({ ...base, ingresses, classes, services, albs })), resyncKeys: groupKeys });
    const wakeGroups = (ing: V1Ingress, old?: V1Ingress) => {
      for (const k of ingressKeys(ing, old, classes.list())) ingCtl.enqueue(k);
    };
    ingresses.on({ add: (i) => wakeGroups(i), delete: (i) => wakeGroups(i), update: (i, old) => (old === undefined || metaOrSpecChanged(i, old) ? wakeGroups(i, old) : undefined) });
    // A class changing (created late, controller or default annotation) can select or drop any Ingress.
    const wakeAllGroups = () => {
      for (const k of groupKeys()) ingCtl.enqueue(k);
    };
    classes.on({ add: wakeAllGroups, delete: wakeAllGroups, update: (c, old) => (old === undefined || metaOrSpecChanged(c, old) ? wakeAllGroups() : undefined) });
    // A backend Service's type and ports (NodePorts) feed the translation.
    const wakeByService = (svc: V1Service) => {
      const ns = svc.metadata?.namespace;
      const name = svc.metadata?.name ?? '';
      for (const i of ingresses.list(ns)) if (servicesOf(i).has(name)) wakeGroups(i);
    };
    services.on({
      add: wakeByService,
      delete: wakeByService,
      update: (svc, old) => (old === undefined || !deepEqual(svc.spec?.ports, old.spec?.ports) || svc.spec?.type !== old.spec?.type ? wakeByService(svc) : undefined),
    });
    const wakeStage1 = (cr: ApplicationLoadBalancer) => {
      if (translatedFromIngresses(cr)) ingCtl.enqueue(objectKey(cr));
      // A hand-written CR going away may free the name for a group.
      else for (const i of ingresses.list(cr.metadata.namespace)) if (groupKeyOf(i) === objectKey(cr)) wakeGroups(i);
    };
    albs.on({ add: wakeStage1, delete: wakeStage1, update: (cr, old) => (old === undefined || metaOrSpecChanged(cr, old) || stage1StatusChanged(cr, old) ? wakeStage1(cr) : undefined) });

    // Stage 2, keyed by CR.
    const albCtl = this.controller({ name: 'applicationloadbalancer', reconcile: conflictsRequeueSoon(albReconciler({ ...base, clients, env, inventory, albs, services, nodes })), resyncKeys: () => albs.keys() });
    albCtl.watch(albs, undefined, { filter: metaOrSpecChanged });
    // Hand-written target groups with a serviceRef and no targetPort take the Service's NodePort.
    services.on({
      update: (svc, old) => {
        if (old !== undefined && deepEqual(svc.spec?.ports, old.spec?.ports)) return;
        for (const cr of albs.list(svc.metadata?.namespace)) if (cr.spec.targetGroups?.some((t) => !t.targetPort && t.serviceRef?.name === svc.metadata?.name)) albCtl.enqueue(objectKey(cr));
      },
    });
    // Targets follow the Nodes: a Node joining, leaving, becoming (un)ready or excluded wakes every ALB.
    const wakeAllAlbs = () => {
      for (const k of albs.keys()) albCtl.enqueue(k);
    };
    nodes.on({ add: wakeAllAlbs, delete: wakeAllAlbs, update: (n, old) => (old === undefined || targetRelevant(n, old) ? wakeAllAlbs() : undefined) });

    if (cfg.orphanSweepInterval > 0) {
      this.controller({
        name: 'orphan-sweep',
        workers: 1,
        resyncPeriodMs: 0,
        resyncKeys: () => [SWEEP_KEY],
        reconcile: sweepReconciler({ client: this.client, clients, env, inventory, albs, events: this.events, intervalMs: cfg.orphanSweepInterval }),
      });
    }
  }

  async #installIngressClass(): Promise<void> {
    if (await this.client.get(resources.IngressClass, INGRESS_CLASS_NAME)) return;
    try {
      await this.client.create(resources.IngressClass, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: INGRESS_CLASS_NAME }, spec: { controller: INGRESS_CONTROLLER } });
      this.log.info({ name: INGRESS_CLASS_NAME }, 'IngressClass created');
    } catch (e) {
      if (!isKubeAlreadyExists(e)) throw e;
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.aws?.destroy();
  }
}
