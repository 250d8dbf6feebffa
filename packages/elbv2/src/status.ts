// The load balancer fields NetworkLoadBalancer and ApplicationLoadBalancer status share.
export interface LoadBalancerStatusFields {
  loadBalancerArn: string;
  loadBalancerName: string;
  scheme: string;
  subnetIds: string[];
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
}

/** Status fields of a load balancer as read from AWS; subnets sorted so the status only changes with them. */
export function loadBalancerStatusFields(lb: {
  arn: string;
  name: string;
  scheme: string;
  subnetIds: readonly string[];
  dnsName?: string | undefined;
  canonicalHostedZoneId?: string | undefined;
  state?: string | undefined;
}): LoadBalancerStatusFields {
  const out: LoadBalancerStatusFields = { loadBalancerArn: lb.arn, loadBalancerName: lb.name, scheme: lb.scheme, subnetIds: [...lb.subnetIds].sort() };
  if (lb.dnsName) out.dnsName = lb.dnsName;
  if (lb.canonicalHostedZoneId) out.canonicalHostedZoneId = lb.canonicalHostedZoneId;
  if (lb.state) out.state = lb.state;
  return out;
}
