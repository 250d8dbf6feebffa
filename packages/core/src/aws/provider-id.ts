// The one reader of a Node's spec.providerID. Every operator asks "is this Node an EC2 instance, and
// which one?" through it, so a Node counts as an AWS node for all of them or for none.
//
// The forms are those the AWS cloud provider (in-tree and cloud-provider-aws, which kops and EKS run)
// writes and reads back: it writes `aws:///<zone>/<instance-id>`; its own reader also takes an empty
// zone (`aws:///<id>`, `aws:////<id>`) and the zone in the host position (`aws://<zone>/<id>`), which
// older kubelets' --provider-id and hand-made Nodes use. EC2 instance IDs are `i-` and 8 (before 2016)
// or 17 lowercase hex digits; anything else is not an instance AWS would accept, so it is refused here
// instead of failing later as InvalidInstanceID.Malformed. Fargate Nodes
// (`aws:///<zone>/<hash>/fargate-ip-…`) have no instance and are not AWS instance Nodes.

/** The instance a providerID names, and its zone when the providerID carries one. */
export interface AwsProviderId {
  instanceId: string;
  zone?: string;
}

/** How the providerID should look, for error messages. */
export const PROVIDER_ID_FORM = 'aws:///<zone>/<instance-id>';

const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
// aws:// then "/<zone>/" (zone may be empty), "<zone>/" (host form) or "/" (no zone), then the ID.
const PROVIDER_ID = /^aws:\/\/(?:\/([a-z0-9-]*)\/|([a-z0-9-]+)\/|\/)(i-[0-9a-f]+)$/;

/** True for an EC2 instance ID (`i-` + 8 or 17 lowercase hex digits). */
export function isInstanceId(id: string): boolean {
  return INSTANCE_ID.test(id);
}

/** The instance and zone of an AWS providerID, or undefined for anything else (not set, another cloud, Fargate, malformed). */
export function parseProviderId(providerId: string | undefined): AwsProviderId | undefined {
  const m = providerId ? PROVIDER_ID.exec(providerId) : null;
  const instanceId = m?.[3];
  if (!instanceId || !isInstanceId(instanceId)) return undefined;
  const zone = m[1] || m[2];
  return zone ? { instanceId, zone } : { instanceId };
}

/** The instance ID of a Node (anything with `spec.providerID`), if it is an EC2 instance. */
export function instanceIdOfNode<N extends { spec?: { providerID?: string } }>(node: N | undefined): string | undefined {
  return parseProviderId(node?.spec?.providerID)?.instanceId;
}
