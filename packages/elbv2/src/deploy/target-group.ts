// Deployer of target groups: create (adopting one of ours of the same name), health check, attributes,
// registrations, delete (a group stays in use for a moment after what forwarded to it is gone).
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  type ProtocolEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { isOwnedBy, toElbTags } from '@kube-iaas/core/tags';
import { describeTargetGroups } from '../aws/describe.ts';
import { toElbAttributes } from '../aws/reads.ts';
import type { TargetGroupChange } from '../changes.ts';
import type { HealthCheck } from '../model.ts';
import { codeOf, gone, type Deployment } from './deployment.ts';

function healthCheckInput(hc: HealthCheck) {
  return {
    HealthCheckProtocol: hc.protocol as ProtocolEnum,
    HealthCheckPort: hc.port,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    ...(hc.path ? { HealthCheckPath: hc.path } : {}),
    ...(hc.successCodes ? { Matcher: { HttpCode: hc.successCodes } } : {}),
  };
}

export async function deployTargetGroup(run: Deployment, a: TargetGroupChange): Promise<void> {
  const { elbv2, cluster } = run.clients;
  const result = run.result;
  switch (a.op) {
    case 'createTargetGroup': {
      const tg = a.tg;
      let arn: string | undefined;
      try {
        const input = { Name: tg.name, Protocol: tg.protocol as ProtocolEnum, Port: tg.port, VpcId: tg.vpcId, TargetType: 'instance' as const, ...healthCheckInput(tg.healthCheck), Tags: toElbTags(tg.tags) };
        arn = (await elbv2.send(new CreateTargetGroupCommand(input))).TargetGroups?.[0]?.TargetGroupArn;
      } catch (e) {
        if (codeOf(e) !== 'DuplicateTargetGroupName') throw e;
        const [existing] = await describeTargetGroups(elbv2, { names: [tg.name] });
        if (!existing || !isOwnedBy(existing.tags, cluster, run.ctx.owner)) throw e;
        arn = existing.arn;
      }
      if (!arn) throw new Error('CreateTargetGroup returned no target group');
      run.ctx.inventory?.remember(run.ctx.owner.uid, 'targetgroup', arn);
      result.targetGroupArns.set(tg.name, arn);
      return;
    }
    case 'modifyTargetGroup':
      await elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: a.arn, ...healthCheckInput(a.healthCheck) }));
      return;
    case 'modifyTargetGroupAttributes':
      await elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: run.tgArn(a.targetGroupName), Attributes: toElbAttributes(a.attributes) }));
      return;
    case 'registerTargets':
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: run.tgArn(a.targetGroupName), Targets: a.ids.map((Id) => ({ Id })) }));
      return;
    case 'deregisterTargets':
      await gone(() => elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: a.arn, Targets: a.ids.map((Id) => ({ Id })) })));
      return;
    case 'deleteTargetGroup':
      await run.retryInUse(`target group ${a.name}`, () => gone(() => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: a.arn }))));
      run.ctx.inventory?.forget(a.arn);
      if (result.targetGroupArns.get(a.name) === a.arn) result.targetGroupArns.delete(a.name);
      return;
  }
}
