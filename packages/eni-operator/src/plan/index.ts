export * from './capacity.ts';
export * from './pool.ts';
export * from './allocate.ts';
export * from './status.ts';
export * from './failure.ts';
export * from './claim.ts';
export * from './restore.ts';
