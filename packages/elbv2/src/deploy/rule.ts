// Deployer of listener rules: create (a priority our listener already holds — a crashed run's rule — is
// taken over instead), modify in place, delete.
import { CreateRuleCommand, DeleteRuleCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { toSdkConditions, type ElbRuleCondition } from '../aws/actions.ts';
import { describeRules } from '../aws/reads.ts';
import type { RuleChange } from '../changes.ts';
import type { RuleModel } from '../model.ts';
import { codeOf, gone, type Deployment } from './deployment.ts';
import { sdkActions } from './listener.ts';

function conditionsOf(r: RuleModel): ElbRuleCondition[] {
  const out: ElbRuleCondition[] = [];
  if (r.hosts.length > 0) out.push({ field: 'host-header', values: r.hosts });
  if (r.paths.length > 0) out.push({ field: 'path-pattern', values: r.paths });
  return out;
}

export async function deployRule(run: Deployment, a: RuleChange): Promise<void> {
  const { elbv2 } = run.clients;
  switch (a.op) {
    case 'createRule': {
      const listenerArn = run.listenerArn(a.rule.listenerPort);
      const body = { Conditions: toSdkConditions(conditionsOf(a.rule)), Actions: sdkActions(run, a.rule.action) };
      let arn: string | undefined;
      try {
        arn = (await elbv2.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: a.rule.priority, ...body }))).Rules?.[0]?.RuleArn;
      } catch (e) {
        if (codeOf(e) !== 'PriorityInUse') throw e;
        arn = (await describeRules(elbv2, listenerArn)).find((r) => r.priority === a.rule.priority)?.arn;
        if (!arn) throw e;
        await elbv2.send(new ModifyRuleCommand({ RuleArn: arn, ...body }));
      }
      if (!arn) throw new Error('CreateRule returned no rule');
      run.setRule(a.rule.listenerPort, a.rule.priority, arn);
      return;
    }
    case 'modifyRule':
      await elbv2.send(new ModifyRuleCommand({ RuleArn: a.arn, Conditions: toSdkConditions(conditionsOf(a.rule)), Actions: sdkActions(run, a.rule.action) }));
      run.setRule(a.rule.listenerPort, a.rule.priority, a.arn);
      return;
    case 'deleteRule':
      await gone(() => elbv2.send(new DeleteRuleCommand({ RuleArn: a.arn })));
      run.result.rules = run.result.rules.filter((r) => r.arn !== a.arn);
      return;
  }
}
