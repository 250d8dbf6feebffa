// Deployer of the load balancer: create (a name that already exists is adopted when it carries this
// owner's tags — a crash between create and status write — and refused otherwise), in-place updates,
// tags (of ELBv2 resources and security groups alike), delete.
import {
  AddTagsCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  ModifyLoadBalancerAttributesCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type LoadBalancer as SdkLoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { isOwnedBy, toEc2Tags, toElbTags } from '@kube-iaas/core/tags';
import { describeLoadBalancers } from '../aws/describe.ts';
import { toElbAttributes } from '../aws/reads.ts';
import type { LoadBalancerChange } from '../changes.ts';
import { codeOf, gone, type AppliedLoadBalancer, type Deployment } from './deployment.ts';

function toApplied(lb: SdkLoadBalancer, fallback: { name: string; scheme: string }): AppliedLoadBalancer {
  const out: AppliedLoadBalancer = {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? fallback.name,
    scheme: lb.Scheme ?? fallback.scheme,
    subnetIds: (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : [])).sort(),
    securityGroupIds: [...(lb.SecurityGroups ?? [])].sort(),
  };
  if (lb.DNSName) out.dnsName = lb.DNSName;
  if (lb.CanonicalHostedZoneId) out.canonicalHostedZoneId = lb.CanonicalHostedZoneId;
  if (lb.State?.Code) out.state = lb.State.Code;
  return out;
}

export async function deployLoadBalancer(run: Deployment, a: LoadBalancerChange): Promise<void> {
  const { elbv2, ec2, cluster } = run.clients;
  const result = run.result;
  switch (a.op) {
    case 'createLoadBalancer': {
      // Security groups can only be given to an NLB at creation: one created without keeps none.
      const groups = a.lb.securityGroups.length > 0 ? { SecurityGroups: a.lb.securityGroups.map((g) => run.group(g)) } : {};
      const input = { Name: a.lb.name, Type: a.lb.type, Scheme: a.lb.scheme, IpAddressType: a.lb.ipAddressType as 'ipv4' | 'dualstack', Subnets: a.lb.subnetIds, ...groups, Tags: toElbTags(a.lb.tags) };
      let lb: SdkLoadBalancer | undefined;
      try {
        lb = (await elbv2.send(new CreateLoadBalancerCommand(input))).LoadBalancers?.[0];
      } catch (e) {
        if (codeOf(e) !== 'DuplicateLoadBalancerName') throw e;
        const [existing] = await describeLoadBalancers(elbv2, { names: [a.lb.name] });
        if (!existing || !isOwnedBy(existing.tags, cluster, run.ctx.owner)) throw e;
        lb = { LoadBalancerArn: existing.arn, LoadBalancerName: existing.name, Scheme: existing.scheme as 'internal', DNSName: existing.dnsName, SecurityGroups: existing.securityGroupIds };
      }
      if (!lb?.LoadBalancerArn) throw new Error('CreateLoadBalancer returned no load balancer');
      run.ctx.inventory?.remember(run.ctx.owner.uid, 'loadbalancer', lb.LoadBalancerArn);
      result.loadBalancer = toApplied(lb, a.lb);
      result.listenerArns.clear();
      result.rules = [];
      return;
    }
    case 'deleteLoadBalancer':
      await run.retryInUse(`load balancer ${a.name}`, () => gone(() => elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: a.arn }))));
      run.ctx.inventory?.forget(a.arn);
      if (result.loadBalancer?.arn === a.arn) {
        delete result.loadBalancer;
        result.listenerArns.clear();
        result.rules = [];
      }
      return;
    case 'setSubnets':
      await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: a.arn, Subnets: a.subnetIds }));
      return;
    case 'setIpAddressType':
      await elbv2.send(new SetIpAddressTypeCommand({ LoadBalancerArn: a.arn, IpAddressType: a.ipAddressType as 'ipv4' | 'dualstack' }));
      return;
    case 'setSecurityGroups':
      await elbv2.send(new SetSecurityGroupsCommand({ LoadBalancerArn: a.arn, SecurityGroups: a.securityGroups.map((g) => run.group(g)) }));
      return;
    case 'modifyLoadBalancerAttributes':
      await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: a.arn || run.lbArn(), Attributes: toElbAttributes(a.attributes) }));
      return;
    case 'addTags': {
      const groups = a.arns.filter((x) => x.startsWith('sg-'));
      const arns = a.arns.filter((x) => !x.startsWith('sg-'));
      if (groups.length > 0) await ec2.send(new CreateTagsCommand({ Resources: groups, Tags: toEc2Tags(a.tags) }));
      if (arns.length > 0) await elbv2.send(new AddTagsCommand({ ResourceArns: arns, Tags: toElbTags(a.tags) }));
      return;
    }
  }
}
