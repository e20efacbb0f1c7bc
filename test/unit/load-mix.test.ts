import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { mixSampler, mixShares, OPERATION_NAMES, ORDERS_MIX, parseMix, SHOP_MIX, type Operation } from '../../load/mix.js';
import { seededRandom } from '../../load/random.js';

function draw(mix: typeof SHOP_MIX, n: number, seed = 7): Record<Operation, number> {
  const sample = mixSampler(mix);
  const random = seededRandom(seed);
  const counts = Object.fromEntries(OPERATION_NAMES.map((name) => [name, 0])) as Record<Operation, number>;
  for (let i = 0; i < n; i++) counts[sample(random())]++;
  return counts;
}

describe('load mix', () => {
  it('draws each operation in its share of the shop mix', () => {
    const n = 200_000;
    const counts = draw(SHOP_MIX, n);
    const shares = mixShares(SHOP_MIX);
    for (const name of OPERATION_NAMES) {
      // Binomial standard deviation is at most ~0.0011 here: 4 of them is a safe bound.
      expect(Math.abs(counts[name] / n - shares[name]), name).toBeLessThan(0.005);
    }
    expect(shares.create).toBeCloseTo(0.35, 5);
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  });

  it('never draws an operation of weight 0', () => {
    const counts = draw(ORDERS_MIX, 10_000);
    expect(counts.create).toBe(10_000);
    const custom = draw(parseMix('create=1,delete=1'), 10_000);
    expect(custom.create + custom.delete).toBe(10_000);
    expect(custom.create).toBeGreaterThan(4_500);
    expect(custom.delete).toBeGreaterThan(4_500);
    // The edges of [0, 1) map to the first and last operation with weight.
    expect(mixSampler(parseMix('pay=1,create=1,invalid=0'))(0)).toBe('create');
    expect(mixSampler(parseMix('create=1,refund=2'))(0.9999999)).toBe('refund');
  });

  it('parses named mixes and OP=WEIGHT lists, and refuses the rest', () => {
    expect(parseMix('shop')).toEqual(SHOP_MIX);
    expect(parseMix('orders')).toEqual(ORDERS_MIX);
    expect(parseMix('create=30, pay=20.5')).toMatchObject({ create: 30, pay: 20.5, ship: 0, invalid: 0 });
    for (const bad of ['pay=10', 'create=0,pay=1', 'create=1,buy=2', 'create', 'create=-1', '']) expect(() => parseMix(bad), bad).toThrow(ConfigError);
  });
});
