import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

/**
 * The one Prometheus registry of an operator process. Every module of core registers its
 * collectors here so `/metrics` shows AWS calls, queue depth and reconciles side by side.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'kube_iaas_process_' });

// Get-or-create: a module may be loaded twice in one process (tests, two operators under `npm start`'s
// single runtime) and prom-client refuses a second registration of a name. Operators declare their
// metrics through these, so they need not depend on prom-client themselves.
type Declared<C> = Omit<C, 'registers'>;

function getOrCreate<M>(name: string, make: () => M): M {
  return (metricsRegistry.getSingleMetric(name) as M | undefined) ?? make();
}

export function counter<L extends string = string>(cfg: Declared<CounterConfiguration<L>>): Counter<L> {
  return getOrCreate(cfg.name, () => new Counter<L>({ ...cfg, registers: [metricsRegistry] }));
}

export function gauge<L extends string = string>(cfg: Declared<GaugeConfiguration<L>>): Gauge<L> {
  return getOrCreate(cfg.name, () => new Gauge<L>({ ...cfg, registers: [metricsRegistry] }));
}

export function histogram<L extends string = string>(cfg: Declared<HistogramConfiguration<L>>): Histogram<L> {
  return getOrCreate(cfg.name, () => new Histogram<L>({ ...cfg, registers: [metricsRegistry] }));
}

export type { Counter, Gauge, Histogram };
