export * from './capacity.ts';
export * from './pool.ts';
export * from './allocate.ts';
