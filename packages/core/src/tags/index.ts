export * from './keys.ts';
export * from './limits.ts';
export * from './tags.ts';
export * from './ownership.ts';
export * from './discovery.ts';
export * from './autoscaler.ts';
