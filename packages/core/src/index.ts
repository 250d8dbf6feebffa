export * from './metrics.ts';
export * from './log.ts';
