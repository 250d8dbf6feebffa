export * from './types.ts';
export * from './quantity.ts';
export * from './parameters.ts';
export * from './claim.ts';
export * from './pv.ts';
