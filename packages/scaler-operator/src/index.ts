export { ScalerOperator, settingsFrom, type ScalerConfig } from './operator.ts';
export { Scaler, nodeGroupNameFor, NODE_GROUP_TYPE } from './controllers/scaler.ts';
export { scalerFlags } from './config.ts';
export { planScaleUp, formatReasons, type PlanInput, type PlanResult, type PlanGroup } from './plan/planner.ts';
export { buildNodeTemplate, TemplateError, type NodeTemplate, type LaunchInfo } from './template/build.ts';
export { parseTemplateTags, TemplateTagError } from './template/tags.ts';
export { podRequirements, isUnschedulable } from './plan/pod.ts';
