import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/flags.js';
import { parseLoadArgs } from '../../cli/load-flags.js';
import { resolveLoadOptions } from '../../load/options.js';
import { SHOP_MIX } from '../../load/mix.js';

describe('shopstream load command line', () => {
  it('leaves the defaults to the generator and takes every flag', () => {
    expect(parseLoadArgs([])).toEqual({
      rate: undefined, durationSeconds: undefined, requests: undefined, concurrency: undefined, users: undefined, products: undefined,
      mix: undefined, zipfExponent: undefined, seed: undefined, url: undefined, json: false,
    });
    const parsed = parseLoadArgs(['--rate', '2.5', '--duration', '30', '--concurrency', '8', '--users', '10', '--products', '3', '--mix', 'create=2,pay=1', '--zipf', '0', '--seed', '42', '--url', 'http://127.0.0.1:3000', '--json']);
    expect(parsed).toMatchObject({ rate: 2.5, durationSeconds: 30, concurrency: 8, users: 10, products: 3, zipfExponent: 0, seed: 42, url: 'http://127.0.0.1:3000', json: true });
    expect(parsed.mix).toMatchObject({ create: 2, pay: 1, ship: 0 });
  });

  it.each([
    [['--rate', '0']],
    [['--rate', 'fast']],
    [['--duration', '-1']],
    [['--concurrency', '1.5']],
    [['--requests', '0']],
    [['--mix', 'pay=1']],
    [['--mix', 'create=1,steal=1']],
    [['--zipf', '-0.5']],
    [['--seed', '1.5']],
    [['--url', 'localhost:3000']],
    [['--rate']],
    [['--speed', '3']],
    [['extra']],
  ])('refuses %j with the usage', (args) => {
    expect(() => parseLoadArgs(args)).toThrow(UsageError);
  });

  it('applies the documented defaults in one place', () => {
    const options = resolveLoadOptions({ url: 'http://x', adminToken: 't', seed: 5 });
    expect(options).toMatchObject({ rate: 50, durationSeconds: 60, requests: undefined, concurrency: 32, users: 500, products: 100, initialStock: 1_000_000, mix: SHOP_MIX, zipfExponent: 1, runId: '5' });
    // A number of requests without a duration runs until they are all sent.
    expect(resolveLoadOptions({ url: 'http://x', adminToken: 't', requests: 100 }).durationSeconds).toBeUndefined();
  });
});
