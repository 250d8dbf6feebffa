import { describe, expect, it } from 'vitest';
import { LoadBalancerNotFoundException, DuplicateLoadBalancerNameException } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError, classifyAwsError, isNotFound, isRetryable } from '../../src/aws/index.ts';
import { OwnershipError, SubnetSelectionError } from '../../src/tags/index.ts';

/** What the SDK throws for a query-protocol error (EC2, ELBv2, Auto Scaling). */
function sdkError(code: string, message: string, status = 400, extra: Record<string, unknown> = {}) {
  const e = new Error(message) as Error & Record<string, unknown>;
  e.name = code;
  e.Code = code;
  e.$fault = status >= 500 ? 'server' : 'client';
  e.$metadata = { httpStatusCode: status, requestId: 'req-1', attempts: 1 };
  Object.assign(e, extra);
  return e;
}

const cases: Array<[string, string, number, string]> = [
  // not found
  ['InvalidVolume.NotFound', "The volume 'vol-1' does not exist.", 400, 'not-found'],
  ['InvalidGroup.NotFound', "The security group 'sg-1' does not exist", 400, 'not-found'],
  ['InvalidNetworkInterfaceID.NotFound', "The networkInterface ID 'eni-1' does not exist", 400, 'not-found'],
  ['InvalidInstanceID.NotFound', 'The instance ID does not exist', 400, 'not-found'],
  ['InvalidPermission.NotFound', 'The specified rule does not exist in this security group.', 400, 'not-found'],
  ['LoadBalancerNotFound', 'One or more load balancers not found', 400, 'not-found'],
  ['TargetGroupNotFound', 'One or more target groups not found', 400, 'not-found'],
  ['ListenerNotFound', 'One or more listeners not found', 400, 'not-found'],
  ['RuleNotFound', 'One or more rules not found', 400, 'not-found'],
  ['ValidationError', 'AutoScalingGroup name not found - nodes', 400, 'not-found'],
  // throttled
  ['Throttling', 'Rate exceeded', 400, 'throttled'],
  ['ThrottlingException', 'Rate exceeded', 400, 'throttled'],
  ['RequestLimitExceeded', 'Request limit exceeded.', 503, 'throttled'],
  ['TooManyRequestsException', 'Too many requests', 429, 'throttled'],
  ['SomethingNew', 'slow down', 429, 'throttled'],
  // retryable
  ['InternalError', 'An internal error has occurred', 500, 'retryable'],
  ['ServiceUnavailable', 'Service unavailable', 503, 'retryable'],
  ['Unavailable', 'The server is overloaded', 503, 'retryable'],
  ['IncorrectState', "The volume 'vol-1' is not in the 'available' state", 400, 'retryable'],
  ['IncorrectInstanceState', 'The instance is not in a valid state', 400, 'retryable'],
  ['ResourceContentionFault', 'You already have a pending update', 400, 'retryable'],
  ['ExpiredToken', 'The security token included in the request is expired', 400, 'retryable'],
  ['SomeNewServerFault', 'boom', 502, 'retryable'],
  // conflict
  ['ResourceInUse', 'The load balancer is in use', 400, 'conflict'],
  ['ResourceInUseFault', 'in use', 400, 'conflict'],
  ['DependencyViolation', "resource sg-1 has a dependent object", 400, 'conflict'],
  ['DuplicateLoadBalancerName', 'A load balancer with the same name exists', 400, 'conflict'],
  ['DuplicateTargetGroupName', 'A target group with the same name exists', 400, 'conflict'],
  ['InvalidPermission.Duplicate', 'the specified rule already exists', 400, 'conflict'],
  ['InvalidGroup.Duplicate', "The security group 'x' already exists", 400, 'conflict'],
  ['IdempotentParameterMismatch', 'client token reused with other parameters', 400, 'conflict'],
  ['VolumeInUse', 'vol-1 is already attached to an instance', 400, 'conflict'],
  ['AlreadyExists', 'AutoScalingGroup by this name already exists', 400, 'conflict'],
  ['InvalidIPAddress.InUse', 'Address 192.168.193.5 is in use', 400, 'conflict'],
  ['PriorityInUse', 'Priority 1 is in use', 400, 'conflict'],
  // terminal
  ['InvalidParameterValue', 'Value (x) for parameter size is invalid', 400, 'terminal'],
  ['ValidationError', '1 validation error detected', 400, 'terminal'],
  ['VolumeLimitExceeded', 'You have exceeded your maximum gp3 storage limit', 400, 'terminal'],
  ['TooManyLoadBalancers', 'The quota for the number of load balancers has been reached', 400, 'terminal'],
  ['RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached', 400, 'terminal'],
  ['UnauthorizedOperation', 'You are not authorized to perform this operation', 403, 'terminal'],
  ['AccessDenied', 'User is not authorized', 403, 'terminal'],
  ['InvalidVolume.ZoneMismatch', 'The volume is not in the same availability zone as the instance', 400, 'terminal'],
  ['CertificateNotFound', 'Certificate not found', 400, 'terminal'],
  ['DuplicateTagKeys', 'Duplicate tag key', 400, 'terminal'],
];

describe('classifyAwsError', () => {
  it.each(cases)('%s (%s, HTTP %i) is %s', (code, message, status, kind) => {
    const c = classifyAwsError(sdkError(code, message, status));
    expect(c.kind).toBe(kind);
    expect(c.code).toBe(code);
    expect(c.message).toBe(message);
    expect(c.httpStatus).toBe(status);
    expect(c.requestId).toBe('req-1');
  });

  it('uses the wire code (Code) over the SDK class name, and the class name when that is all there is', () => {
    expect(classifyAwsError(Object.assign(sdkError('LoadBalancerNotFoundException', 'x'), { Code: 'LoadBalancerNotFound' })).code).toBe('LoadBalancerNotFound');
    const modeled = new LoadBalancerNotFoundException({ message: 'One or more load balancers not found', $metadata: { httpStatusCode: 400 } });
    expect(classifyAwsError(modeled)).toMatchObject({ kind: 'not-found', code: 'LoadBalancerNotFoundException' });
    const dup = new DuplicateLoadBalancerNameException({ message: 'dup', $metadata: { httpStatusCode: 400 } });
    expect(classifyAwsError(dup).kind).toBe('conflict');
  });

  it('suggests a backoff for throttling, from Retry-After when present', () => {
    expect(classifyAwsError(sdkError('Throttling', 'Rate exceeded')).retryAfterMs).toBe(1000);
    const withHeader = sdkError('Throttling', 'Rate exceeded', 400, { $response: { statusCode: 400, headers: { 'retry-after': '7' } } });
    expect(classifyAwsError(withHeader).retryAfterMs).toBe(7000);
    expect(classifyAwsError(sdkError('InternalError', 'x', 500)).retryAfterMs).toBeUndefined();
  });

  it('treats network failures as retryable', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
      const e = Object.assign(new Error(`connect ${code}`), { code });
      expect(classifyAwsError(e)).toMatchObject({ kind: 'retryable', code });
    }
    expect(classifyAwsError(Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' })).kind).toBe('retryable');
  });

  it('treats programming errors and kube-iaas refusals as terminal', () => {
    expect(classifyAwsError(new TypeError('x is undefined')).kind).toBe('terminal');
    expect(classifyAwsError('weird')).toMatchObject({ kind: 'terminal', code: 'UnknownError' });
    expect(classifyAwsError(new OwnershipError('no', { reason: 'untagged', cluster: 'c' }))).toMatchObject({ kind: 'terminal', code: 'OwnershipRefused' });
    expect(classifyAwsError(new SubnetSelectionError('no', [], []))).toMatchObject({ kind: 'terminal', code: 'SubnetSelection' });
  });
});

describe('AwsError', () => {
  it('wraps an SDK error keeping code, message, name, metadata and cause', () => {
    const raw = sdkError('InvalidVolume.NotFound', "The volume 'vol-1' does not exist.");
    const e = AwsError.from(raw, { service: 'ec2', operation: 'DescribeVolumes' });
    expect(e).toBeInstanceOf(AwsError);
    expect(e).toBeInstanceOf(Error);
    expect(e.kind).toBe('not-found');
    expect(e.code).toBe('InvalidVolume.NotFound');
    expect(e.message).toBe("The volume 'vol-1' does not exist.");
    expect(e.name).toBe('InvalidVolume.NotFound'); // SDK waiters match on name
    expect(e.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(e.cause).toBe(raw);
    expect(String(e)).toBe("ec2 DescribeVolumes: InvalidVolume.NotFound: The volume 'vol-1' does not exist.");
    expect(AwsError.from(e)).toBe(e);
    expect(classifyAwsError(e)).toMatchObject({ kind: 'not-found', code: 'InvalidVolume.NotFound' });
    expect(isNotFound(e)).toBe(true);
    expect(isRetryable(AwsError.from(sdkError('Throttling', 'x')))).toBe(true);
  });
});
