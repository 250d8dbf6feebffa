import { DescribeInstanceTypesCommand, type EC2Client, type _InstanceType } from '@aws-sdk/client-ec2';
import { AwsError } from '../aws/errors.ts';
import { instanceTypeFactsFromSdk, type InstanceTypeFacts } from './facts.ts';

export interface InstanceTypeCatalogOptions {
  /** How long facts are kept. Instance types do not change; default 24 h. */
  ttlMs?: number;
  now?: () => number;
}

const BATCH = 100; // DescribeInstanceTypes accepts up to 100 names a call

/**
 * Instance-type facts read through DescribeInstanceTypes and cached. Concurrent lookups of the same
 * type share one request; `getMany` asks for all missing types in as few calls as possible.
 */
export class InstanceTypeCatalog {
  private readonly ec2: EC2Client;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { facts: InstanceTypeFacts; expires: number }>();
  private readonly inflight = new Map<string, Promise<Map<string, InstanceTypeFacts>>>();

  constructor(ec2: EC2Client, opts: InstanceTypeCatalogOptions = {}) {
    this.ec2 = ec2;
    this.ttlMs = opts.ttlMs ?? 24 * 3600_000;
    this.now = opts.now ?? Date.now;
  }

  /** Facts of one type; an unknown type throws a terminal `AwsError` (`InvalidInstanceType`). */
  async get(instanceType: string): Promise<InstanceTypeFacts> {
    const facts = (await this.getMany([instanceType])).get(instanceType);
    if (!facts) throw new AwsError({ kind: 'terminal', code: 'InvalidInstanceType', message: `instance type ${instanceType} is not known to DescribeInstanceTypes`, service: 'ec2', operation: 'DescribeInstanceTypes' });
    return facts;
  }

  /** Facts of several types; unknown types are absent from the map (AWS may also reject the call). */
  async getMany(instanceTypes: readonly string[]): Promise<Map<string, InstanceTypeFacts>> {
    const wanted = [...new Set(instanceTypes)];
    const now = this.now();
    const missing = wanted.filter((t) => !((this.cache.get(t)?.expires ?? 0) > now) && !this.inflight.has(t));
    for (let i = 0; i < missing.length; i += BATCH) {
      const chunk = missing.slice(i, i + BATCH);
      const p = this.fetch(chunk).finally(() => {
        for (const t of chunk) if (this.inflight.get(t) === p) this.inflight.delete(t);
      });
      // Waiters of other types may stop at an earlier failure: keep this one's rejection handled.
      p.catch(() => undefined);
      for (const t of chunk) this.inflight.set(t, p);
    }
    const out = new Map<string, InstanceTypeFacts>();
    for (const t of wanted) {
      const cached = this.cache.get(t);
      if (cached && cached.expires > now) {
        out.set(t, cached.facts);
        continue;
      }
      const batch = await this.inflight.get(t);
      const facts = batch?.get(t) ?? this.cache.get(t)?.facts;
      if (facts) out.set(t, facts);
    }
    return out;
  }

  /** Seeds the cache (e.g. from a static table in tests or a simulator). */
  prime(facts: readonly InstanceTypeFacts[]): void {
    const expires = this.now() + this.ttlMs;
    for (const f of facts) this.cache.set(f.instanceType, { facts: f, expires });
  }

  clear(): void {
    this.cache.clear();
  }

  private async fetch(types: string[]): Promise<Map<string, InstanceTypeFacts>> {
    const out = new Map<string, InstanceTypeFacts>();
    let NextToken: string | undefined;
    do {
      const res = await this.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: types as _InstanceType[], NextToken }));
      for (const info of res.InstanceTypes ?? []) {
        const facts = instanceTypeFactsFromSdk(info);
        out.set(facts.instanceType, facts);
      }
      NextToken = res.NextToken;
    } while (NextToken);
    const expires = this.now() + this.ttlMs;
    for (const f of out.values()) this.cache.set(f.instanceType, { facts: f, expires });
    return out;
  }
}
