/**
 * EC2 instance metadata (IMDSv2) without the AWS SDK: what the node plugin needs when `--node-id` /
 * `--zone` are not given. AWS_EC2_METADATA_SERVICE_ENDPOINT moves it (the SDK's variable).
 */
export interface InstanceIdentity {
  instanceId: string;
  zone: string;
  /** Network interfaces attached now: on Nitro they take EBS attachment slots. */
  attachedEnis: number;
}

export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';

export async function readInstanceIdentity(endpoint: string = process.env['AWS_EC2_METADATA_SERVICE_ENDPOINT'] ?? DEFAULT_IMDS_ENDPOINT, timeoutMs = 2000): Promise<InstanceIdentity> {
  const base = endpoint.replace(/\/+$/, '');
  const signal = () => AbortSignal.timeout(timeoutMs);
  const tokenRes = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '300' }, signal: signal() });
  if (!tokenRes.ok) throw new Error(`instance metadata token: HTTP ${tokenRes.status}`);
  const token = await tokenRes.text();
  const get = async (path: string): Promise<string> => {
    const res = await fetch(`${base}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token }, signal: signal() });
    if (!res.ok) throw new Error(`instance metadata ${path}: HTTP ${res.status}`);
    return (await res.text()).trim();
  };
  const [instanceId, zone, macs] = await Promise.all([get('instance-id'), get('placement/availability-zone'), get('network/interfaces/macs/')]);
  return { instanceId, zone, attachedEnis: macs.split('\n').filter((l) => l.trim() !== '').length };
}
