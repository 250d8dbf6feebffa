// Deployer of the owner's rules on the cluster's node security groups. Each rule carries the owner's
// description (the guard demands it on a shared group). A rule someone else already added counts as
// present; any other failure (a rule quota) is reported, not thrown: the rest of the plan still runs.
import { AuthorizeSecurityGroupIngressCommand, RevokeSecurityGroupIngressCommand, type IpPermission } from '@aws-sdk/client-ec2';
import type { NodeRuleChange } from '../changes.ts';
import type { ActualNodeRule, NodeRule } from '../model.ts';
import { codeOf, gone, type Deployment } from './deployment.ts';
import { cidrRange } from './security-group.ts';

function byGroup<T extends { groupId: string }>(rules: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rules) out.set(r.groupId, [...(out.get(r.groupId) ?? []), r]);
  return out;
}

export async function deployNodeRules(run: Deployment, a: NodeRuleChange): Promise<void> {
  const { ec2 } = run.clients;
  const result = run.result;
  if (a.op === 'revokeNodeRules') {
    for (const [groupId, rules] of byGroup(a.rules)) await gone(() => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: rules.map((r) => r.id) })));
    const revoked = new Set(a.rules.map((r) => r.id));
    result.nodeRules = result.nodeRules.filter((r) => !revoked.has(r.id));
    return;
  }
  const description = a.description;
  const permission = (r: NodeRule): IpPermission => ({
    IpProtocol: r.protocol,
    FromPort: r.port,
    ToPort: r.port,
    ...(r.sourceGroupId !== undefined ? { UserIdGroupPairs: [{ GroupId: run.group(r.sourceGroupId), Description: description }] } : cidrRange(r.cidr ?? '', description)),
  });
  for (const [groupId, rules] of byGroup(a.rules)) {
    const authorize = async (rs: readonly NodeRule[]) => {
      const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rs.map(permission) }));
      for (const sr of out.SecurityGroupRules ?? []) {
        if (!sr.SecurityGroupRuleId) continue;
        const rule: ActualNodeRule = { id: sr.SecurityGroupRuleId, groupId, protocol: sr.IpProtocol === 'udp' ? 'udp' : 'tcp', port: sr.FromPort ?? 0, description };
        const source = sr.ReferencedGroupInfo?.GroupId;
        const cidr = sr.CidrIpv4 ?? sr.CidrIpv6;
        if (source) rule.sourceGroupId = source;
        else if (cidr) rule.cidr = cidr;
        else continue;
        result.nodeRules.push(rule);
      }
    };
    try {
      await authorize(rules);
    } catch (e) {
      if (codeOf(e) !== 'InvalidPermission.Duplicate') {
        result.ruleError = e;
        continue;
      }
      // An identical rule (someone else's, or ours from a crashed run) already allows part of it.
      for (const r of rules) {
        try {
          await authorize([r]);
        } catch (e2) {
          if (codeOf(e2) !== 'InvalidPermission.Duplicate') {
            result.ruleError = e2;
            break;
          }
        }
      }
    }
  }
}
