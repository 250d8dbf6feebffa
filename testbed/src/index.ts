export { up, down, isRunning, readState, restartComponent, statusReport, awsEnv, REGION, type TestbedState } from './testbed.ts';
export { CLUSTER_NAME, NODE_PLAN, VPC_CIDR, type SeededAccount } from './account.ts';
export { NodeSimulator, POD_IP_ANNOTATION, type SimulatorHooks, type SimulatorOptions } from './node-simulator/simulator.ts';
export { KUBELET_RESERVED, nodeNameFor, type SimInstance } from './node-simulator/node-object.ts';
export { JOIN_DELAY_TAG, NEVER_JOIN_TAG } from './node-simulator/asg-settings.ts';
export { netPrefix } from './node-network.ts';
export { podNetnsName } from './node-simulator/cni-run.ts';
