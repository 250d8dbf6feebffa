export * from './metrics.ts';
export * from './log.ts';
export * from './runtime/index.ts';
