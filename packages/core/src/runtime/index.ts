/**
 * The kube-iaas operator runtime: informers, keyed work queue, level-triggered controllers,
 * leader election, status / finalizer / event / owner-reference helpers, health + metrics server,
 * configuration, and the desired-versus-actual diff helpers. See packages/core/README.md.
 */
export * from './types.ts';
export * from './backoff.ts';
export * from './queue.ts';
export * from './errors.ts';
export * from './client.ts';
export * from './store.ts';
export * from './informer.ts';
export * from './transforms.ts';
export * from './controller.ts';
export * from './conditions.ts';
export * from './status.ts';
export * from './finalizers.ts';
export * from './owner.ts';
export * from './events.ts';
export * from './leader.ts';
export * from './server.ts';
export * from './config.ts';
export * from './diff.ts';
export * from './operator.ts';
export * from './run.ts';
export * from './retry.ts';
export * from './legacy.ts';
export * from './shared.ts';
export * from './aws-flags.ts';
export { runtimeMetrics } from './metrics.ts';
