import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one Prometheus registry of an operator process. Every module of core registers its
 * collectors here so `/metrics` shows AWS calls, queue depth and reconciles side by side.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'kube_iaas_process_' });
