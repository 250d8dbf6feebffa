// Pure: the ALB's plan is the shared ELBv2 plan (packages/elbv2) on its model.
export { planChanges, planDeletion, describeAction, replacementReason, healthCheckDiffers, nodeRuleKey as backendKey } from '@kube-iaas/elbv2';
