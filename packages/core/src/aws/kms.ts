// The ownership guard's rule for KMS. Reading keys (what volumes need) lives in volume-operator.
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, Pluggable } from '@smithy/types';
import { OwnershipError } from '../tags/ownership.ts';
import { awsMetrics } from './call-stats.ts';
import { operationClass } from './rate-limit.ts';

/**
 * kube-iaas only reads KMS (EBS makes its own grants when a volume is created), so the KMS client
 * refuses every call that is not a Describe/Get/List: the ownership guard's rule for KMS is "nothing".
 */
export function kmsReadOnlyPlugin<I extends object = object, O extends object = object>(cluster: string): Pluggable<I, O> {
  const middleware =
    (next: InitializeHandler<I, O>, context: HandlerExecutionContext): InitializeHandler<I, O> =>
    async (args: InitializeHandlerArguments<I>): Promise<InitializeHandlerOutput<O>> => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      if (operationClass(operation) !== 'describe') {
        awsMetrics().refusals.inc({ service: 'kms', operation, reason: 'no-rule' });
        throw new OwnershipError(`refusing KMS ${operation}: kube-iaas only reads KMS keys`, { reason: 'no-rule', cluster, operation });
      }
      return next(args);
    };
  return {
    applyToStack: (stack) => {
      stack.add(middleware, { step: 'initialize', priority: 'high', name: 'kubeIaasKmsReadOnly', override: true });
    },
  };
}
