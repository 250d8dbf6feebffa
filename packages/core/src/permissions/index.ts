export * from './types.ts';
export * from './render.ts';
export * from './coverage.ts';
