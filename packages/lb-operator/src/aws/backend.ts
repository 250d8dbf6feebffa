// The cluster's shared backend security group (found by its tags, created once per VPC) and its rules
// on the node groups. Thin I/O around plan/backend.ts; calls run in the backend owner's guard scope, so
// the guard checks the group's tags and that each rule added to a shared node group names that owner.
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { classifyAwsError, describeSecurityGroupRules, isNotFound, describeSecurityGroups, type AwsClients } from '@kube-iaas/core/aws';
import { ownedByOwnerFilters, toTagSpecifications } from '@kube-iaas/core/tags';
import { BACKEND_OWNER, backendDescription, backendGroupName, backendGroupTags, missingBackendRules, staleBackendRules, type BackendRule, type NodeGroupRule } from '../plan/backend.ts';
import type { PortPolicy } from '../plan/ports.ts';

export interface EnsuredBackend {
  groupId: string;
  /** Rules added to node groups by this call (for Events). */
  added: BackendRule[];
  /** Rules over ports no longer allowed, removed by this call. */
  removed: NodeGroupRule[];
}

/**
 * Ensures the backend group of a VPC and its node-group rules. Both are looked up at most once per
 * `recheckMs` per VPC and node groups: the steady state costs no call.
 */
export class BackendGroups {
  readonly #clients: AwsClients;
  readonly #policy: PortPolicy;
  readonly #recheckMs: number;
  readonly #groups = new Map<string, Promise<string>>();
  readonly #checked = new Map<string, number>();

  constructor(clients: AwsClients, policy: PortPolicy, opts: { recheckMs?: number } = {}) {
    this.#clients = clients;
    this.#policy = policy;
    this.#recheckMs = opts.recheckMs ?? 300_000;
  }

  async ensure(vpcId: string, nodeGroupIds: readonly string[], protocols: ReadonlySet<'tcp' | 'udp'>): Promise<EnsuredBackend> {
    const groupId = await this.#group(vpcId);
    const key = `${groupId}|${[...nodeGroupIds].sort().join(',')}|${[...protocols].sort().join(',')}`;
    const at = this.#checked.get(key);
    if (at !== undefined && Date.now() - at < this.#recheckMs) return { groupId, added: [], removed: [] };
    const existing: NodeGroupRule[] = [];
    for (const g of nodeGroupIds) {
      for (const r of await describeSecurityGroupRules(this.#clients.ec2, g)) if (!r.egress) existing.push({ ...r, groupId: g });
    }
    const stale = staleBackendRules(nodeGroupIds, groupId, this.#policy, existing);
    const missing = missingBackendRules(nodeGroupIds, groupId, protocols, this.#policy, existing.filter((e) => !stale.includes(e)));
    const added: BackendRule[] = [];
    const description = backendDescription(this.#clients.cluster);
    await this.#clients.guard.asOwner(BACKEND_OWNER, async () => {
      for (const r of missing) {
        try {
          await this.#clients.ec2.send(
            new AuthorizeSecurityGroupIngressCommand({
              GroupId: r.groupId,
              IpPermissions: [{ IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, UserIdGroupPairs: [{ GroupId: groupId, Description: description }] }],
            }),
          );
          added.push(r);
        } catch (e) {
          // Another worker (or process) added it a moment ago.
          if (classifyAwsError(e).code !== 'InvalidPermission.Duplicate') throw e;
        }
      }
      // After the adds, so a range that only widened is never missing in between.
      for (const r of stale) {
        if (!r.id) continue;
        try {
          await this.#clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: r.groupId, SecurityGroupRuleIds: [r.id] }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    });
    this.#checked.set(key, Date.now());
    return { groupId, added, removed: stale };
  }

  /** Forget what was checked, so the next `ensure` looks again (after an AWS error that may be ours). */
  invalidate(): void {
    this.#checked.clear();
  }

  #group(vpcId: string): Promise<string> {
    let p = this.#groups.get(vpcId);
    if (!p) {
      p = this.#findOrCreate(vpcId);
      this.#groups.set(vpcId, p);
      p.catch(() => this.#groups.delete(vpcId));
    }
    return p;
  }

  async #find(vpcId: string): Promise<string | undefined> {
    const { ec2, cluster } = this.#clients;
    const found = await describeSecurityGroups(ec2, { filters: [...ownedByOwnerFilters(cluster, BACKEND_OWNER), { Name: 'vpc-id', Values: [vpcId] }] });
    return found.map((g) => g.id).sort()[0];
  }

  async #findOrCreate(vpcId: string): Promise<string> {
    const found = await this.#find(vpcId);
    if (found) return found;
    const { ec2, cluster } = this.#clients;
    const name = backendGroupName(cluster);
    try {
      const out = await this.#clients.guard.asOwner(BACKEND_OWNER, () =>
        ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: name,
            Description: `Shared backend of the kube-iaas NLBs of cluster ${cluster}: the node groups trust it on the NodePort range`,
            VpcId: vpcId,
            TagSpecifications: toTagSpecifications('security-group', backendGroupTags(cluster)),
          }),
        ),
      );
      if (!out.GroupId) throw new Error('CreateSecurityGroup returned no group');
      return out.GroupId;
    } catch (e) {
      // A second operator process created it between our describe and create: use theirs.
      if (classifyAwsError(e).code !== 'InvalidGroup.Duplicate') throw e;
      const again = await this.#find(vpcId);
      if (!again) throw e;
      return again;
    }
  }
}
