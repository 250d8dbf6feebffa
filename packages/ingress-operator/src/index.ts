export * from './constants.ts';
export * from './translate/index.ts';
