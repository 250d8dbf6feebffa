// ELBv2 actions and rule conditions mapped to plain shapes both ways, so nothing else reads or builds
// the SDK's unions.
import type { Action as SdkAction, RuleCondition as SdkRuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';

/** A listener default action or rule action; target groups by ARN. */
export type ElbAction =
  | { type: 'forward'; targetGroups: Array<{ arn: string; weight: number }> }
  | { type: 'fixed-response'; statusCode: string; contentType?: string; messageBody?: string }
  | { type: 'redirect'; statusCode: string; protocol?: string; port?: string; host?: string; path?: string; query?: string }
  /** authenticate-oidc / authenticate-cognito: not managed by kube-iaas, kept so a diff sees them. */
  | { type: 'other'; awsType: string };

/** A rule condition: `host-header`, `path-pattern`, `http-header`, … with its values. */
export interface ElbRuleCondition {
  field: string;
  values: string[];
}

export function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** SDK actions (sorted by `Order`) to plain ones. A forward with one target group has weight 1. */
export function fromSdkActions(actions: readonly SdkAction[] | undefined): ElbAction[] {
  return [...(actions ?? [])]
    .sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0))
    .map((a): ElbAction => {
      switch (a.Type) {
        case 'forward': {
          const cfg = a.ForwardConfig?.TargetGroups ?? [];
          const targetGroups = cfg.length > 0 ? cfg.flatMap((t) => (t.TargetGroupArn ? [{ arn: t.TargetGroupArn, weight: t.Weight ?? 1 }] : [])) : a.TargetGroupArn ? [{ arn: a.TargetGroupArn, weight: 1 }] : [];
          return { type: 'forward', targetGroups };
        }
        case 'fixed-response': {
          const f = a.FixedResponseConfig;
          return defined({ type: 'fixed-response' as const, statusCode: f?.StatusCode ?? '', contentType: f?.ContentType, messageBody: f?.MessageBody });
        }
        case 'redirect': {
          const r = a.RedirectConfig;
          return defined({ type: 'redirect' as const, statusCode: r?.StatusCode ?? '', protocol: r?.Protocol, port: r?.Port, host: r?.Host, path: r?.Path, query: r?.Query });
        }
        default:
          return { type: 'other', awsType: a.Type ?? '' };
      }
    });
}

/**
 * Plain actions to the SDK's, numbered by position. A forward to one group of weight 1 uses
 * `TargetGroupArn` alone (accepted everywhere); other forwards use `ForwardConfig` with the weights, so a
 * read gives back what was written.
 */
export function toSdkActions(actions: readonly ElbAction[]): SdkAction[] {
  return actions.map((a, i): SdkAction => {
    const Order = i + 1;
    switch (a.type) {
      case 'forward':
        if (a.targetGroups.length === 1 && a.targetGroups[0]?.weight === 1) return { Type: 'forward', Order, TargetGroupArn: a.targetGroups[0].arn };
        return { Type: 'forward', Order, ForwardConfig: { TargetGroups: a.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })) } };
      case 'fixed-response':
        return { Type: 'fixed-response', Order, FixedResponseConfig: defined({ StatusCode: a.statusCode, ContentType: a.contentType, MessageBody: a.messageBody }) };
      case 'redirect':
        return {
          Type: 'redirect',
          Order,
          RedirectConfig: defined({ StatusCode: a.statusCode as 'HTTP_301' | 'HTTP_302', Protocol: a.protocol, Port: a.port, Host: a.host, Path: a.path, Query: a.query }),
        };
      case 'other':
        throw new Error(`cannot write an ELBv2 action of type ${a.awsType}: kube-iaas does not manage it`);
    }
  });
}

/** Values of a condition, from its typed config (`HostHeaderConfig`, …) or the legacy `Values`. */
export function fromSdkConditions(conditions: readonly SdkRuleCondition[] | undefined): ElbRuleCondition[] {
  return (conditions ?? []).map((c) => {
    const values =
      c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpRequestMethodConfig?.Values ?? c.SourceIpConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.Values ?? [];
    return { field: c.Field ?? '', values: [...values] };
  });
}

/** `host-header` and `path-pattern` in their typed configs; other fields with plain `Values`. */
export function toSdkConditions(conditions: readonly ElbRuleCondition[]): SdkRuleCondition[] {
  return conditions.map((c) => {
    if (c.field === 'host-header') return { Field: c.field, HostHeaderConfig: { Values: [...c.values] } };
    if (c.field === 'path-pattern') return { Field: c.field, PathPatternConfig: { Values: [...c.values] } };
    return { Field: c.field, Values: [...c.values] };
  });
}

/** The values of every condition on `field`. */
export function conditionValues(conditions: readonly ElbRuleCondition[], field: string): string[] {
  return conditions.filter((c) => c.field === field).flatMap((c) => c.values);
}

