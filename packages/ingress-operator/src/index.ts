export * from './constants.ts';
export * from './translate/index.ts';
export * from './plan/index.ts';
