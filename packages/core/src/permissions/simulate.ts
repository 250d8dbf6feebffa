// Test-time only (not exported from the package index): evaluates a generated IAM policy with an IAM
// policy simulator, because moto enforces actions but not resources or tag conditions.
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { autoscalerDiscoveryTags, ownedTags } from '../tags/tags.ts';
import { OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG } from '../tags/keys.ts';
import { renderIamPolicy } from './render.ts';
import type { IamParameters, OperatorPermissions } from './types.ts';

export const SIMULATED: IamParameters = { partition: 'aws-cn', accountId: '123456789012', clusterName: 'int32bit-kubernetes' };
const REGION = 'cn-northwest-1';

export type TagSet = 'own' | 'untagged' | 'other-cluster';

export interface SimulatedCall {
  action: string;
  resource: string;
  tags: TagSet;
  /** What least privilege demands: our own resources allowed; untagged or another cluster's denied where the policy scopes by tag. */
  expected: 'Allowed' | 'Denied';
  result: string;
}

/** The create call whose implicit tagging a `CreateTags`/`AddTags` statement allows, by resource type. */
const CREATE_ACTION: Record<string, string> = {
  volume: 'CreateVolume',
  'network-interface': 'CreateNetworkInterface',
  'security-group': 'CreateSecurityGroup',
  loadbalancer: 'CreateLoadBalancer',
  targetgroup: 'CreateTargetGroup',
};

/** A concrete ARN for a statement's resource pattern; `*` of a tag-scoped statement becomes a resource of the service's kind. */
function sampleArn(pattern: string, service: string, scoped: boolean): string {
  if (pattern === '*') {
    if (!scoped) return '*';
    if (service === 'autoscaling') return `arn:${SIMULATED.partition}:autoscaling:${REGION}:${SIMULATED.accountId}:autoScalingGroup:0f0f0f0f-0000-4000-8000-000000000000:autoScalingGroupName/group-1`;
    if (service === 'kms') return `arn:${SIMULATED.partition}:kms:${REGION}:${SIMULATED.accountId}:key/0f0f0f0f-0000-4000-8000-000000000000`;
    return '*';
  }
  return pattern.replace(/^(arn:[^:]+:[^:]+:)\*:/, `$1${REGION}:`).replace(/\*/g, 'x1');
}

function tagsFor(set: TagSet, ownerKind: string): Record<string, string> {
  if (set === 'untagged') return {};
  const cluster = set === 'own' ? SIMULATED.clusterName : 'another-cluster';
  return { ...ownedTags(cluster, { kind: ownerKind, name: 'x1', namespace: 'default', uid: 'u1' }), ...autoscalerDiscoveryTags(cluster) };
}

function context(action: string, arn: string, set: TagSet, ownerKind: string): Record<string, string | string[]> {
  const tags = tagsFor(set, ownerKind);
  const ctx: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(tags)) {
    ctx[`aws:ResourceTag/${k}`] = v;
    ctx[`aws:RequestTag/${k}`] = v;
  }
  // Removing tags: only the four owner keys (the Retain hand-over); adding: the tags we create with.
  ctx['aws:TagKeys'] = /:(DeleteTags|RemoveTags)$/.test(action) ? [OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG] : Object.keys(tags);
  const type = /:(?:[^:]*):(?:[^:]*):(?:[^:]*):([\w-]+)\//.exec(arn)?.[1] ?? '';
  if (CREATE_ACTION[type]) {
    ctx['ec2:CreateAction'] = CREATE_ACTION[type];
    ctx['elasticloadbalancing:CreateAction'] = CREATE_ACTION[type];
  }
  if (action.startsWith('kms:')) {
    ctx['kms:ViaService'] = `ec2.${REGION}.amazonaws.com.cn`;
    ctx['kms:GrantIsForAWSResource'] = 'true';
  }
  return ctx;
}

async function decide(policy: object, action: string, resource: string, contextVariables: Record<string, string | string[]>): Promise<string> {
  const sim = {
    identityPolicies: [{ name: 'operator', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: { principal: `arn:${SIMULATED.partition}:iam::${SIMULATED.accountId}:user/operator`, action, resource: { resource, accountId: SIMULATED.accountId }, contextVariables },
  } as unknown as Simulation;
  const r = await runSimulation(sim, {});
  if (r.resultType === 'error') return `error: ${JSON.stringify(r.errors).slice(0, 300)}`;
  return r.overallResult;
}

/**
 * Every action of `perms` (or only `actions`, e.g. the ones the integration tests called), on every resource
 * pattern of every statement naming it, with our own tags, none, and another cluster's.
 */
export async function simulateOperatorPolicy(perms: Pick<OperatorPermissions, 'iam' | 'name'>, ownerKind: string, actions?: readonly string[]): Promise<SimulatedCall[]> {
  const policy = renderIamPolicy({ ...perms, rules: [], installsCrds: [] }, SIMULATED);
  // Where an untagged resource is allowed by design: reads, and statements declared `unscopedBecause`.
  // The expectation comes from the declaration, not from the conditions, so a dropped condition shows.
  const isRead = (a: string) => /:(Describe|Get|List)/.test(a);
  const unscoped = renderIamPolicy({ ...perms, rules: [], installsCrds: [], iam: perms.iam.filter((s) => s.unscopedBecause !== undefined || s.Action.every(isRead)) }, SIMULATED);
  const out: SimulatedCall[] = [];
  for (const st of policy.Statement) {
    for (const action of st.Action) {
      // A wildcard action (kms:ReEncrypt*) cannot be simulated as one request.
      if ((actions && !actions.includes(action)) || action.includes('*')) continue;
      const service = action.split(':')[0] ?? '';
      for (const pattern of [st.Resource].flat()) {
        const arn = sampleArn(pattern, service, !!st.Condition && JSON.stringify(st.Condition).includes('aws:ResourceTag'));
        // A statement may list resource types an action does not take (AddTags on a target group ARN next to DeleteLoadBalancer).
        if ((await decide(policy, action, arn, {})).includes('no.resource.types')) continue;
        const open = unscoped.Statement.length > 0 && (await decide(unscoped, action, arn, context(action, arn, 'untagged', ownerKind))) === 'Allowed';
        for (const tags of ['own', 'untagged', 'other-cluster'] as const) {
          const result = await decide(policy, action, arn, context(action, arn, tags, ownerKind));
          out.push({ action, resource: arn, tags, expected: tags === 'own' || open ? 'Allowed' : 'Denied', result });
        }
      }
    }
  }
  return out;
}

/** The simulated calls whose outcome is not what least privilege demands (`ImplicitlyDenied` counts as Denied). */
export function simulationProblems(calls: readonly SimulatedCall[]): string[] {
  return calls
    .filter((c) => (c.expected === 'Allowed' ? c.result !== 'Allowed' : !/Denied$/.test(c.result)))
    .map((c) => `${c.action} on ${c.resource} with ${c.tags} tags: ${c.result}, expected ${c.expected}`);
}
