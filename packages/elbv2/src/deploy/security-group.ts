// Deployer of the load balancer's own security group: create (adopting one of ours left by a crash
// between create and status), client rules in and out, delete (AWS frees it only once its load
// balancer's network interfaces are gone).
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DeleteSecurityGroupCommand, RevokeSecurityGroupIngressCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { describeSecurityGroups } from '@kube-iaas/core/aws';
import { isOwnedBy, toTagSpecifications } from '@kube-iaas/core/tags';
import type { SecurityGroupChange } from '../changes.ts';
import type { GroupRule } from '../model.ts';
import { codeOf, gone, type Deployment } from './deployment.ts';

export function cidrRange(cidr: string, description: string | undefined): Pick<IpPermission, 'IpRanges' | 'Ipv6Ranges'> {
  const d = description ? { Description: description } : {};
  return cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: cidr, ...d }] } : { IpRanges: [{ CidrIp: cidr, ...d }] };
}

const permission = (r: GroupRule, description: string | undefined): IpPermission => ({ IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, ...cidrRange(r.cidr, description) });

export async function deploySecurityGroup(run: Deployment, a: SecurityGroupChange): Promise<void> {
  const { ec2, cluster } = run.clients;
  const result = run.result;
  switch (a.op) {
    case 'createSecurityGroup': {
      const g = a.group;
      try {
        const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: g.name, Description: g.description, VpcId: g.vpcId, TagSpecifications: toTagSpecifications('security-group', g.tags) }));
        if (!out.GroupId) throw new Error('CreateSecurityGroup returned no group');
        result.securityGroupId = out.GroupId;
      } catch (e) {
        if (codeOf(e) !== 'InvalidGroup.Duplicate') throw e;
        const [existing] = await describeSecurityGroups(ec2, { filters: [{ Name: 'group-name', Values: [g.name] }, { Name: 'vpc-id', Values: [g.vpcId] }] });
        if (!existing || !isOwnedBy(existing.tags, cluster, run.ctx.owner)) throw e;
        result.securityGroupId = existing.id;
      }
      result.securityGroupRules = [];
      return;
    }
    case 'authorizeGroupIngress': {
      const groupId = run.group(a.groupId);
      const authorize = async (rules: readonly GroupRule[]) => {
        const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map((r) => permission(r, a.description)) }));
        for (const sr of out.SecurityGroupRules ?? []) {
          const cidr = sr.CidrIpv4 ?? sr.CidrIpv6;
          if (!sr.SecurityGroupRuleId || !cidr) continue;
          result.securityGroupRules.push({ id: sr.SecurityGroupRuleId, protocol: sr.IpProtocol === 'udp' ? 'udp' : 'tcp', fromPort: sr.FromPort ?? 0, toPort: sr.ToPort ?? 0, cidr });
        }
      };
      try {
        await authorize(a.rules);
      } catch (e) {
        // The group is this load balancer's own: a quota error here hurts no one else.
        if (codeOf(e) !== 'InvalidPermission.Duplicate') {
          result.ruleError = e;
          return;
        }
        for (const r of a.rules) {
          try {
            await authorize([r]);
          } catch (e2) {
            if (codeOf(e2) !== 'InvalidPermission.Duplicate') {
              result.ruleError = e2;
              return;
            }
          }
        }
      }
      return;
    }
    case 'revokeGroupIngress': {
      await gone(() => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: a.groupId, SecurityGroupRuleIds: a.rules.map((r) => r.id) })));
      const revoked = new Set(a.rules.map((r) => r.id));
      result.securityGroupRules = result.securityGroupRules.filter((r) => !revoked.has(r.id));
      return;
    }
    case 'deleteSecurityGroup':
      // The load balancer's network interfaces hold the group until AWS has finished deleting it.
      await run.retryInUse(`security group ${a.name}`, () => gone(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: a.groupId }))));
      if (result.securityGroupId === a.groupId) {
        delete result.securityGroupId;
        result.securityGroupRules = [];
      }
      return;
  }
}
