export * from './types.ts';
export * from './render.ts';
export * from './coverage.ts';
export * from './text.ts';
export * from './check.ts';
