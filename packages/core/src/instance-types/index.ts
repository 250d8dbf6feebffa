export * from './facts.ts';
export * from './catalog.ts';
