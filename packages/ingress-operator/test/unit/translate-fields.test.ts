// Issue #22, defect 11: every bad field named, each under its own name; an Ingress with several bad
// annotations reports them all in one go.
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/constants.ts';
import { parseCertificateArns } from '../../src/translate/parse.ts';
import { ingress, memberErrors } from './fixtures.ts';

const base = { 'kubernetes.io/ingress.class': 'alb', [ANNOTATIONS.listenPorts]: '[{"HTTPS": 443}]' };

describe('certificate-arn', () => {
  it('accepts ACM and IAM server certificate ARNs in any partition', () => {
    expect(parseCertificateArns('arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc-1, arn:aws:iam::123456789012:server-certificate/site')).toEqual({
      ok: true,
      value: ['arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc-1', 'arn:aws:iam::123456789012:server-certificate/site'],
    });
  });
  it.each(['garbage', 'arn:aws:acm:cn-northwest-1:123:certificate/x', 'arn:aws:s3:::bucket', 'arn:aws:acm:cn-northwest-1:123456789012:certificate/'])('refuses %s', (v) => {
    expect(parseCertificateArns(v)).toMatchObject({ ok: false, message: expect.stringContaining('is not a certificate ARN') });
  });
  it('a garbage value is reported under certificate-arn, not listen-ports', () => {
    const errs = memberErrors(ingress('a', { annotations: { ...base, [ANNOTATIONS.certificateArn]: 'garbage' } }));
    expect(errs).toEqual([{ field: ANNOTATIONS.certificateArn, message: expect.stringContaining('"garbage" is not a certificate ARN') }]);
  });
});

describe('several bad annotations', () => {
  it('are all reported, each under its own name (parser and CRD validator errors together)', () => {
    const errs = memberErrors(
      ingress('a', {
        annotations: {
          ...base,
          [ANNOTATIONS.certificateArn]: 'garbage',
          [ANNOTATIONS.scheme]: 'public',
          [ANNOTATIONS.inboundCidrs]: '10.0.0.0/99',
          [ANNOTATIONS.sslPolicy]: 'x'.repeat(200),
        },
      }),
    );
    expect(errs.map((e) => e.field).sort()).toEqual([ANNOTATIONS.certificateArn, ANNOTATIONS.inboundCidrs, ANNOTATIONS.scheme, ANNOTATIONS.sslPolicy].sort());
  });
});

describe('several CRD-level problems', () => {
  it('are reported together, though the validator checks CEL rules only once the schema holds', () => {
    const errs = memberErrors(ingress('a', { annotations: { ...base, [ANNOTATIONS.certificateArn]: 'arn:aws-cn:acm:cn-northwest-1:123456789012:certificate/abc', [ANNOTATIONS.inboundCidrs]: '10.0.0.0/99', [ANNOTATIONS.sslPolicy]: 'x'.repeat(200) } }));
    expect(errs.map((e) => e.field).sort()).toEqual([ANNOTATIONS.inboundCidrs, ANNOTATIONS.sslPolicy].sort());
  });
});

describe('user tags over AWS limits', () => {
  it('are refused under the tags annotation, not cut', () => {
    const errs = memberErrors(ingress('a', { annotations: { 'kubernetes.io/ingress.class': 'alb', [ANNOTATIONS.tags]: `team=${'x'.repeat(257)},${'k'.repeat(129)}=v` } }));
    expect(errs.map((e) => e.field)).toEqual([ANNOTATIONS.tags]);
    expect(errs[0]?.message).toMatch(/256|128/);
  });
  it('are accepted at exactly 128 and 256 characters', () => {
    expect(memberErrors(ingress('a', { annotations: { 'kubernetes.io/ingress.class': 'alb', [ANNOTATIONS.tags]: `${'k'.repeat(128)}=${'x'.repeat(256)}` } }))).toEqual([]);
  });
});
