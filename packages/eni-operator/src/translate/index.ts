export * from './node.ts';
