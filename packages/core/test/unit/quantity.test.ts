import { describe, expect, it } from 'vitest';
import { QuantityError, formatResourceAmount, formatResourceAmounts, parseCpuMillis, parseQuantity, resourceAmount, resourceAmounts } from '../../src/index.ts';

describe('parseQuantity', () => {
  it('reads plain numbers, decimal and binary suffixes and exponents', () => {
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity('+3')).toBe(3);
    expect(parseQuantity('4Gi')).toBe(4 * 2 ** 30);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('3584Ki')).toBe(3584 * 1024);
    expect(parseQuantity('1k')).toBe(1000);
    expect(parseQuantity('2M')).toBe(2e6);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('12E-1')).toBeCloseTo(1.2);
    expect(parseQuantity('100n')).toBeCloseTo(1e-7);
    expect(parseQuantity(' 8Gi ')).toBe(8 * 2 ** 30);
    expect(parseQuantity(7)).toBe(7);
  });

  it('refuses what the API server refuses, naming the input', () => {
    for (const bad of ['', 'abc', '1gi', '1 Gi', '1.2.3', 'Gi', '1Gib', '--1', '1e']) {
      expect(() => parseQuantity(bad), bad).toThrow(QuantityError);
    }
    expect(() => parseQuantity('oops')).toThrow('not a quantity: "oops"');
    expect(() => parseQuantity(Number.NaN)).toThrow(QuantityError);
  });
});

describe('resource amounts', () => {
  it('cpu in millicores, rounded up; the rest in whole base units', () => {
    expect(parseCpuMillis('1.5')).toBe(1500);
    expect(parseCpuMillis('0.3')).toBe(300);
    expect(parseCpuMillis('100m')).toBe(100);
    expect(parseCpuMillis('0.1m')).toBe(1);
    expect(resourceAmount('cpu', '900m')).toBe(900);
    expect(resourceAmount('memory', '1.5Ki')).toBe(1536);
    expect(resourceAmount('memory', '1.0001')).toBe(2);
    expect(resourceAmount('pods', '29')).toBe(29);
    expect(resourceAmount('nvidia.com/gpu', 1)).toBe(1);
    expect(resourceAmounts({ cpu: '2', memory: '4Gi', pods: '29' })).toEqual({ cpu: 2000, memory: 4 * 2 ** 30, pods: 29 });
    expect(resourceAmounts(undefined)).toEqual({});
    expect(() => resourceAmounts({ cpu: 'lots' })).toThrow(QuantityError);
  });

  it('formats amounts back to quantities', () => {
    expect(formatResourceAmount('cpu', 1900)).toBe('1900m');
    expect(formatResourceAmount('cpu', 2000)).toBe('2');
    expect(formatResourceAmount('memory', 3584 * 2 ** 20)).toBe('3584Mi');
    expect(formatResourceAmount('memory', 4 * 2 ** 30)).toBe('4Gi');
    expect(formatResourceAmount('ephemeral-storage', 1536)).toBe('1536');
    expect(formatResourceAmount('hugepages-2Mi', 2048)).toBe('2Ki');
    expect(formatResourceAmount('memory', 0)).toBe('0');
    expect(formatResourceAmount('pods', 29)).toBe('29');
    expect(formatResourceAmounts({ pods: 29, cpu: 1900 })).toEqual({ cpu: '1900m', pods: '29' });
    expect(Object.keys(formatResourceAmounts({ pods: 1, cpu: 1, memory: 1 }))).toEqual(['cpu', 'memory', 'pods']);
  });

  it('round-trips through format and parse', () => {
    for (const [name, v] of [['cpu', 1900], ['cpu', 3000], ['memory', 3584 * 2 ** 20], ['memory', 12345], ['pods', 58]] as const) {
      expect(resourceAmount(name, formatResourceAmount(name, v))).toBe(v);
    }
  });
});
