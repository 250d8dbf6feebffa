import { describe, expect, it } from 'vitest';
import { parseBoolean, parseEnum, parseInteger, parseKeyValues, parseList } from '../../src/annotation-values.ts';

describe('annotation values', () => {
  it('splits lists and key=value pairs, refusing malformed or repeated keys', () => {
    expect(parseList(' a, ,b ')).toEqual(['a', 'b']);
    expect(parseKeyValues('team=web, env=')).toEqual({ ok: true, value: { team: 'web', env: '' } });
    expect(parseKeyValues('team')).toMatchObject({ ok: false, message: expect.stringContaining('malformed item "team"') });
    expect(parseKeyValues('a=1,a=2')).toMatchObject({ ok: false, message: expect.stringContaining('"a" is given twice') });
  });

  it('takes negative whole numbers only where the caller allows them', () => {
    expect(parseInteger(' 30 ')).toEqual({ ok: true, value: 30 });
    expect(parseInteger('-5')).toMatchObject({ ok: false });
    expect(parseInteger('-5', { allowNegative: true })).toEqual({ ok: true, value: -5 });
    expect(parseInteger('1.5', { allowNegative: true })).toMatchObject({ ok: false });
  });

  it('parses booleans and enums', () => {
    expect(parseBoolean('TRUE')).toEqual({ ok: true, value: true });
    expect(parseBoolean('yes')).toMatchObject({ ok: false });
    const scheme = parseEnum(['internal', 'internet-facing'] as const);
    expect(scheme('internal')).toEqual({ ok: true, value: 'internal' });
    expect(scheme('public')).toMatchObject({ ok: false, message: expect.stringContaining('expected one of internal, internet-facing') });
  });
});
