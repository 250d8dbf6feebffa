import { describe, expect, it } from 'vitest';
import { suspectOwners, type Found } from '../../src/index.ts';

const found = (name: string, uid: string | undefined, kind: Found['kind'] = 'targetgroup'): Found => ({ kind, id: `arn:${kind}/${name}/${uid ?? ''}`, owner: { namespace: 'default', name, uid } });

describe('suspectOwners', () => {
  it('suspects owners whose CR is missing or has another UID, once each', () => {
    const live = new Map([['default/alive', 'u1'], ['default/recreated', 'u-new']]);
    const got = suspectOwners(
      [found('alive', 'u1'), found('alive', 'u1', 'loadbalancer'), found('gone', 'u2'), found('gone', 'u2', 'rule'), found('recreated', 'u-old'), found('no-uid', undefined)],
      (ns, name) => live.get(`${ns}/${name}`),
    );
    expect(got).toEqual([
      { namespace: 'default', name: 'gone', uid: 'u2' },
      { namespace: 'default', name: 'recreated', uid: 'u-old' },
      { namespace: 'default', name: 'no-uid', uid: undefined },
    ]);
  });

  it('leaves an owner alone whose CR lives with the same UID, or whose tags carry no UID', () => {
    expect(suspectOwners([found('a', 'u1'), found('b', undefined)], () => 'u1')).toEqual([]);
  });
});
