import { describe, expect, it } from 'vitest';
import { arn, dnsSuffixForPartition, dnsSuffixForRegion, loadBalancerArnOf, parseArn, partitionForRegion, servicePrincipal } from '../../src/aws/index.ts';

describe('partitions', () => {
  it('maps regions to the three partitions', () => {
    expect(partitionForRegion('cn-northwest-1')).toBe('aws-cn');
    expect(partitionForRegion('cn-north-1')).toBe('aws-cn');
    expect(partitionForRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionForRegion('us-gov-east-1')).toBe('aws-us-gov');
    expect(partitionForRegion('us-east-1')).toBe('aws');
    expect(partitionForRegion('eu-central-1')).toBe('aws');
  });

  it('has the DNS suffix of each partition', () => {
    expect(dnsSuffixForPartition('aws')).toBe('amazonaws.com');
    expect(dnsSuffixForPartition('aws-cn')).toBe('amazonaws.com.cn');
    expect(dnsSuffixForPartition('aws-us-gov')).toBe('amazonaws.com');
    expect(dnsSuffixForRegion('cn-northwest-1')).toBe('amazonaws.com.cn');
    expect(servicePrincipal('ec2', 'aws-cn')).toBe('ec2.amazonaws.com.cn');
  });
});

describe('arn', () => {
  it('builds ARNs in the region partition', () => {
    expect(arn({ service: 'ec2', region: 'cn-northwest-1', account: '123456789012', resource: 'volume/vol-1' })).toBe('arn:aws-cn:ec2:cn-northwest-1:123456789012:volume/vol-1');
    expect(arn({ service: 'ec2', region: 'us-gov-west-1', account: '123456789012', resource: 'volume/vol-1' })).toBe('arn:aws-us-gov:ec2:us-gov-west-1:123456789012:volume/vol-1');
    expect(arn({ service: 'ec2', region: 'us-east-1', account: '123456789012', resource: 'volume/vol-1' })).toBe('arn:aws:ec2:us-east-1:123456789012:volume/vol-1');
  });

  it('needs an explicit partition for global services', () => {
    expect(arn({ partition: 'aws-cn', service: 'iam', region: '', account: '123456789012', resource: 'role/kube-iaas' })).toBe('arn:aws-cn:iam::123456789012:role/kube-iaas');
    expect(() => arn({ service: 'iam', region: '', account: '1', resource: 'role/x' })).toThrow(/partition/);
  });

  it('parses, keeping colons in the resource', () => {
    expect(parseArn('arn:aws-cn:logs:cn-northwest-1:1:log-group:/x:*')).toEqual({ partition: 'aws-cn', service: 'logs', region: 'cn-northwest-1', account: '1', resource: 'log-group:/x:*' });
    expect(() => parseArn('sg-123')).toThrow(/not an ARN/);
  });

  it('finds the load balancer of a listener or rule ARN', () => {
    const lb = 'arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:loadbalancer/net/k8s-web/50dc6c495c0c9188';
    expect(loadBalancerArnOf(lb)).toBe(lb);
    expect(loadBalancerArnOf('arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:listener/net/k8s-web/50dc6c495c0c9188/f2f7dc8efc522ab2')).toBe(lb);
    expect(loadBalancerArnOf('arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:listener-rule/net/k8s-web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee')).toBe(lb);
    expect(loadBalancerArnOf('arn:aws-cn:elasticloadbalancing:cn-northwest-1:1:targetgroup/k8s-web/73e2d6bc24d8a067')).toBeUndefined();
  });
});
