import { describe, expect, it } from 'vitest';
import { NodeTemplateTagError, nodeTemplateTags, parseNodeTemplate } from '../../src/tags/index.ts';

const L = 'k8s.io/cluster-autoscaler/node-template/label/';
const T = 'k8s.io/cluster-autoscaler/node-template/taint/';
const R = 'k8s.io/cluster-autoscaler/node-template/resources/';

const strict = (tags: Record<string, string>) => parseNodeTemplate(tags, { strict: true });
const errorOf = (tags: Record<string, string>): NodeTemplateTagError => {
  try {
    strict(tags);
  } catch (err) {
    if (err instanceof NodeTemplateTagError) return err;
    throw err;
  }
  throw new Error('no error');
};

describe('parseNodeTemplate strict', () => {
  it('reads good tags exactly as the lenient parser does', () => {
    const tags = {
      ...nodeTemplateTags({
        labels: { pool: 'special', 'example.com/tier': 'gold', empty: '' },
        taints: [
          { key: 'dedicated', value: 'special', effect: 'NoSchedule' },
          { key: 'example.com/gpu', value: '', effect: 'NoExecute' },
        ],
        resources: { 'nvidia.com/gpu': '1', 'ephemeral-storage': '100Gi' },
        options: { scaledownutilizationthreshold: '0.4' },
      }),
      Name: 'unrelated',
    };
    expect(strict(tags)).toEqual(parseNodeTemplate(tags));
    expect(strict(tags).taints.map((t) => t.key)).toEqual(['dedicated', 'example.com/gpu']);
    expect(strict(tags).resources).toEqual({ 'nvidia.com/gpu': '1', 'ephemeral-storage': '100Gi' });
  });

  it('names the tag for each kind of malformed value', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ [`${T}dedicated`]: 'oops' }, `${T}dedicated`, /must be <value>:<effect>/],
      [{ [`${T}dedicated`]: 'x:NoScheduel' }, `${T}dedicated`, /effect NoSchedule, PreferNoSchedule or NoExecute/],
      [{ [`${T}bad key!`]: 'x:NoSchedule' }, `${T}bad key!`, /not a valid taint key/],
      [{ [`${T}dedicated`]: 'has space:NoSchedule' }, `${T}dedicated`, /"has space" is not a valid taint value/],
      [{ [`${L}-pool`]: 'x' }, `${L}-pool`, /not a valid label key/],
      [{ [`${L}Upper.Prefix/x`]: 'x' }, `${L}Upper.Prefix/x`, /not a valid label key/],
      [{ [`${L}pool`]: 'a'.repeat(64) }, `${L}pool`, /not a valid label value/],
      [{ [`${L}pool`]: 'special!' }, `${L}pool`, /not a valid label value/],
      [{ [`${R}nvidia.com/gpu`]: 'one' }, `${R}nvidia.com/gpu`, /"one" is not a quantity/],
      [{ [`${R}memory`]: '-1Gi' }, `${R}memory`, /"-1Gi" is not a quantity/],
      [{ [`${R}bad name`]: '1' }, `${R}bad name`, /not a valid resource name/],
    ];
    for (const [tags, tag, message] of cases) {
      const err = errorOf(tags);
      expect(err.tag, tag).toBe(tag);
      expect(err.message, tag).toMatch(message);
      expect(err.message.startsWith(`ASG tag ${tag}: `), tag).toBe(true);
    }
  });

  it('reports the first bad tag in key order, whatever order AWS returned them in', () => {
    expect(errorOf({ [`${T}zzz`]: 'bad', [`${L}a!`]: 'x' }).tag).toBe(`${L}a!`);
  });

  it('the lenient parser still skips what it cannot read', () => {
    const t = parseNodeTemplate({ [`${T}x`]: 'novalue', [`${R}gpu`]: 'one', [`${L}pool`]: 'ok' });
    expect(t.taints).toEqual([]);
    expect(t.resources).toEqual({ gpu: 'one' });
    expect(t.labels).toEqual({ pool: 'ok' });
  });
});
