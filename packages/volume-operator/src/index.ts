export * from './constants.ts';
export * from './translate/index.ts';
export * from './plan/index.ts';
export { Ebs, clientToken, tagsForVolume, volumeOwner } from './aws/ebs.ts';
export { VolumeOperator, volumeFlags, csiDriverObject } from './operator.ts';
