export * from './metrics.ts';
export * from './log.ts';
export * from './runtime/index.ts';
export * from './aws/index.ts';
export * from './tags/index.ts';
export * from './instance-types/index.ts';
export * from './annotation-values.ts';
export * from './quantity.ts';
