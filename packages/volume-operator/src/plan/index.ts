export * from './devices.ts';
export * from './limits.ts';
export * from './volume.ts';
export * from './kms.ts';
export * from './adoption.ts';
