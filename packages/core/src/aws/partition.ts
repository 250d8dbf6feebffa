/** AWS partitions kube-iaas runs in. China regions (the article's cn-northwest-1) are `aws-cn`. */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

export function partitionForRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `amazonaws.com.cn` in China, `amazonaws.com` elsewhere (GovCloud included). */
export function dnsSuffixForPartition(partition: Partition): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

export function dnsSuffixForRegion(region: string): string {
  return dnsSuffixForPartition(partitionForRegion(region));
}

/** A service principal for trust policies, e.g. `ec2.amazonaws.com.cn` in China. */
export function servicePrincipal(service: string, partition: Partition): string {
  return `${service}.${dnsSuffixForPartition(partition)}`;
}

export interface ArnParts {
  /** Derived from `region` when omitted; required for global services (empty region). */
  partition?: Partition;
  service: string;
  /** Empty for global services such as IAM. */
  region: string;
  account: string;
  /** Everything after the account, e.g. `volume/vol-123` or `role/kube-iaas`. */
  resource: string;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` with the partition of the region. */
export function arn(parts: ArnParts): string {
  const partition = parts.partition ?? (parts.region ? partitionForRegion(parts.region) : undefined);
  if (!partition) throw new Error(`arn(): an ARN for ${parts.service} without a region needs an explicit partition`);
  if (!parts.service || !parts.resource) throw new Error('arn(): service and resource are required');
  return `arn:${partition}:${parts.service}:${parts.region}:${parts.account}:${parts.resource}`;
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN; throws on anything that is not one. The resource part may contain colons. */
export function parseArn(value: string): ParsedArn {
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw new Error(`not an ARN: ${value}`);
  const [, partition = '', service = '', region = '', account = ''] = parts;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

export function isArn(value: string): boolean {
  return value.startsWith('arn:') && value.split(':').length >= 6;
}

/**
 * The load balancer an ELBv2 ARN belongs to: itself for a load balancer, the parent for a listener
 * (`listener/app/<name>/<lb-id>/<listener-id>`) or a rule (`listener-rule/app/<name>/<lb-id>/<l-id>/<r-id>`).
 * Undefined for target groups and anything else.
 */
export function loadBalancerArnOf(elbArn: string): string | undefined {
  if (!isArn(elbArn)) return undefined;
  const p = parseArn(elbArn);
  if (p.service !== 'elasticloadbalancing') return undefined;
  const segments = p.resource.split('/');
  const [kind, type, name, id] = segments;
  if (!type || !name || !id) return undefined;
  if (kind === 'loadbalancer' || kind === 'listener' || kind === 'listener-rule') {
    return `arn:${p.partition}:${p.service}:${p.region}:${p.account}:loadbalancer/${type}/${name}/${id}`;
  }
  return undefined;
}
