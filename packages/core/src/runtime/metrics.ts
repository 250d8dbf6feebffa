import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../metrics.ts';

/**
 * Collectors of the operator runtime. They are created once per process (prom-client refuses a
 * second registration of a name) and labelled by queue / controller / resource, so several
 * controllers in one operator share them.
 */
const registers = [metricsRegistry];

/** What a work queue exposes for its gauges, read at scrape time instead of on every add/get. */
export interface QueueGaugeSource {
  readonly length: number;
  readonly delayedCount: number;
  readonly inFlight: number;
}
/** The live queue of each name (a controller makes a new queue per leadership term). */
export const liveQueues = new Map<string, QueueGaugeSource>();

/** Seconds buckets from 100µs to ~5 minutes: a no-op reconcile and a slow AWS call both land somewhere useful. */
const durationBuckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const runtimeMetrics = {
  queueDepth: new Gauge({
    name: 'kube_iaas_workqueue_depth',
    help: 'Keys waiting in the work queue (not counting keys being processed or waiting for a delay)',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, q] of liveQueues) this.set({ name }, q.length);
    },
  }),
  queueDelayed: new Gauge({
    name: 'kube_iaas_workqueue_delayed',
    help: 'Keys waiting for a backoff or requeueAfter delay before they enter the queue',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, q] of liveQueues) this.set({ name }, q.delayedCount);
    },
  }),
  queueInFlight: new Gauge({
    name: 'kube_iaas_workqueue_in_flight',
    help: 'Keys being processed by a worker right now',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, q] of liveQueues) this.set({ name }, q.inFlight);
    },
  }),
  queueAdds: new Counter({
    name: 'kube_iaas_workqueue_adds_total',
    help: 'Keys added to the work queue (including adds merged into a key already waiting)',
    labelNames: ['name'] as const,
    registers,
  }),
  queueRetries: new Counter({
    name: 'kube_iaas_workqueue_retries_total',
    help: 'Keys put back with per-key backoff after an error',
    labelNames: ['name'] as const,
    registers,
  }),
  queueLatency: new Histogram({
    name: 'kube_iaas_workqueue_queue_duration_seconds',
    help: 'Time a key waited in the queue before a worker took it',
    labelNames: ['name'] as const,
    buckets: durationBuckets,
    registers,
  }),
  workDuration: new Histogram({
    name: 'kube_iaas_workqueue_work_duration_seconds',
    help: 'Time a worker spent on one key',
    labelNames: ['name'] as const,
    buckets: durationBuckets,
    registers,
  }),
  reconcileTotal: new Counter({
    name: 'kube_iaas_reconcile_total',
    help: 'Reconciles by result: success, requeue_after, error (retried with backoff), terminal (not retried until the object changes or a resync)',
    labelNames: ['controller', 'result'] as const,
    registers,
  }),
  reconcileErrors: new Counter({
    name: 'kube_iaas_reconcile_errors_total',
    help: 'Failed reconciles by error kind (throttled, retryable, conflict, not-found, terminal, ...)',
    labelNames: ['controller', 'kind'] as const,
    registers,
  }),
  activeWorkers: new Gauge({
    name: 'kube_iaas_controller_active_workers',
    help: 'Worker loops running for a controller (0 on a standby replica)',
    labelNames: ['controller'] as const,
    registers,
  }),
  informerRequests: new Counter({
    name: 'kube_iaas_informer_requests_total',
    help: 'API server requests made by informers: list pages and watch starts',
    labelNames: ['resource', 'verb'] as const,
    registers,
  }),
  informerErrors: new Counter({
    name: 'kube_iaas_informer_errors_total',
    help: 'List or watch failures after which the informer reconnects with backoff',
    labelNames: ['resource'] as const,
    registers,
  }),
  informerRelists: new Counter({
    name: 'kube_iaas_informer_relists_total',
    help: 'Full relists after the first list (410 Gone or a lost resourceVersion)',
    labelNames: ['resource'] as const,
    registers,
  }),
  informerSynced: new Gauge({
    name: 'kube_iaas_informer_synced',
    help: '1 once the informer has completed its first list',
    labelNames: ['resource'] as const,
    registers,
  }),
  informerObjects: new Gauge({
    name: 'kube_iaas_informer_objects',
    help: 'Objects held in the informer cache',
    labelNames: ['resource'] as const,
    registers,
  }),
  kubeRequests: new Counter({
    name: 'kube_iaas_kube_requests_total',
    help: 'Non-watch requests to the API server made through the runtime client, by verb and HTTP status code',
    labelNames: ['verb', 'code'] as const,
    registers,
  }),
  leaderIsLeader: new Gauge({
    name: 'kube_iaas_leader_election_is_leader',
    help: '1 while this process holds the leader-election lease',
    labelNames: ['lease'] as const,
    registers,
  }),
  leaderTransitions: new Counter({
    name: 'kube_iaas_leader_election_transitions_total',
    help: 'Times this process acquired or lost the leader-election lease',
    labelNames: ['lease', 'event'] as const,
    registers,
  }),
  eventsTotal: new Counter({
    name: 'kube_iaas_events_total',
    help: 'Kubernetes Events recorded, by outcome: created, aggregated (count bumped on an existing Event), dropped (spam filter), failed',
    labelNames: ['type', 'outcome'] as const,
    registers,
  }),
  statusWrites: new Counter({
    name: 'kube_iaas_status_writes_total',
    help: 'Status subresource writes by outcome: written, skipped (nothing changed), failed',
    labelNames: ['outcome'] as const,
    registers,
  }),
};
