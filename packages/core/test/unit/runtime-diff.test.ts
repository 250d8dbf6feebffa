import { describe, expect, it } from 'vitest';
import {
  applyMergePatch,
  createMergePatch,
  deepEqual,
  diffByKey,
  diffSets,
  diffTags,
  toTagRecord,
} from '../../src/runtime/index.ts';

describe('diffByKey', () => {
  interface Listener {
    port: number;
    protocol: string;
    targetGroup: string;
  }
  const listener = (port: number, protocol = 'TCP', targetGroup = `tg-${port}`): Listener => ({ port, protocol, targetGroup });

  it('splits desired and actual lists into create / update / delete / unchanged', () => {
    const desired = [listener(80), listener(443, 'TLS'), listener(8080)];
    const actual = [listener(443, 'TCP'), listener(80), listener(22)];
    const d = diffByKey(desired, actual, { key: (l) => String(l.port) });
    expect(d.toCreate).toEqual([listener(8080)]);
    expect(d.toUpdate).toEqual([{ key: '443', desired: listener(443, 'TLS'), actual: listener(443, 'TCP') }]);
    expect(d.toDelete).toEqual([listener(22)]);
    expect(d.unchanged).toEqual([{ key: '80', desired: listener(80), actual: listener(80) }]);
  });

  it('compares different shapes with separate key functions and a custom equality', () => {
    const desired = [{ port: 80, protocol: 'TCP' }];
    const actual = [{ Port: 80, Protocol: 'TCP', ListenerArn: 'arn:aws-cn:elasticloadbalancing:...' }, { Port: 81, Protocol: 'UDP', ListenerArn: 'x' }];
    const d = diffByKey(desired, actual, {
      desiredKey: (l) => String(l.port),
      actualKey: (l) => String(l.Port),
      equal: (x, y) => x.protocol === y.Protocol,
    });
    expect(d.toCreate).toEqual([]);
    expect(d.unchanged).toHaveLength(1);
    expect(d.toDelete.map((l) => l.Port)).toEqual([81]);
  });

  it('accepts Maps and records, and refuses duplicate keys', () => {
    const d = diffByKey(new Map([['a', 1], ['b', 2]]), { b: 3, c: 4 });
    expect(d).toEqual({
      toCreate: [1],
      toUpdate: [{ key: 'b', desired: 2, actual: 3 }],
      toDelete: [4],
      unchanged: [],
    });
    expect(() => diffByKey([{ id: 'x' }, { id: 'x' }], [], { key: (o) => o.id })).toThrow(/duplicate key "x" in desired/);
    expect(() => diffByKey([1], [])).toThrow(/key function/);
  });

  it('is pure', () => {
    const desired = [{ id: 'a', v: 1 }];
    const actual = [{ id: 'a', v: 2 }];
    const copy = structuredClone({ desired, actual });
    diffByKey(desired, actual, { key: (o) => o.id });
    expect({ desired, actual }).toEqual(copy);
  });
});

describe('diffSets', () => {
  it('finds targets to register and deregister', () => {
    const d = diffSets(['i-1', 'i-2', 'i-3', 'i-3'], ['i-3', 'i-4']);
    expect(d).toEqual({ toAdd: ['i-1', 'i-2'], toRemove: ['i-4'], unchanged: ['i-3'] });
  });

  it('keys objects', () => {
    const d = diffSets([{ id: 'i-1', port: 30080 }], [{ id: 'i-1', port: 30081 }], (t) => `${t.id}:${t.port}`);
    expect(d.toAdd).toEqual([{ id: 'i-1', port: 30080 }]);
    expect(d.toRemove).toEqual([{ id: 'i-1', port: 30081 }]);
  });
});

describe('diffTags', () => {
  it('adds missing and changed tags and by default removes nothing', () => {
    const d = diffTags(
      { 'kubernetes.io/cluster/c1': 'owned', Name: 'web', 'kube-iaas.dev/owner': 'default/web' },
      [
        { Key: 'kubernetes.io/cluster/c1', Value: 'owned' },
        { Key: 'Name', Value: 'old' },
        { Key: 'team', Value: 'payments' },
      ],
    );
    expect(d).toEqual({ toAdd: { Name: 'web', 'kube-iaas.dev/owner': 'default/web' }, toRemove: [], empty: false });
  });

  it('removes only tags the prune predicate owns, never aws: tags', () => {
    const d = diffTags(
      { 'kube-iaas.dev/owner': 'default/web' },
      { 'kube-iaas.dev/owner': 'default/web', 'kube-iaas.dev/service-port': '80', team: 'x', 'aws:cloudformation:stack-name': 's' },
      { prune: (k) => k.startsWith('kube-iaas.dev/') || k.startsWith('aws:') },
    );
    expect(d).toEqual({ toAdd: {}, toRemove: ['kube-iaas.dev/service-port'], empty: false });
    expect(diffTags({ a: '1' }, new Map([['a', '1']])).empty).toBe(true);
  });

  it('normalises AWS tag lists', () => {
    expect(toTagRecord([{ Key: 'a', Value: '1' }, { Key: 'b' }, { Value: 'orphan' }])).toEqual({ a: '1', b: '' });
  });
});

describe('merge patches', () => {
  it('creates the RFC 7386 patch between two objects', () => {
    const before = { phase: 'Pending', conditions: [{ type: 'Ready' }], dns: { name: 'a', zone: 'z' }, gone: 1 };
    const after = { phase: 'Active', conditions: [{ type: 'Ready' }, { type: 'Synced' }], dns: { name: 'a' }, added: true };
    const patch = createMergePatch(before, after);
    expect(patch).toEqual({
      phase: 'Active',
      conditions: [{ type: 'Ready' }, { type: 'Synced' }],
      dns: { zone: null },
      added: true,
      gone: null,
    });
    expect(applyMergePatch(before, patch)).toEqual(after);
    expect(createMergePatch(after, structuredClone(after))).toBeUndefined();
  });

  it('deepEqual ignores key order and undefined members', () => {
    expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: null }, { a: undefined })).toBe(false);
  });
});
