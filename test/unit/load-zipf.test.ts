import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../load/random.js';
import { zipfProbabilities, zipfSampler } from '../../load/zipf.js';

function frequencies(n: number, exponent: number, draws: number): number[] {
  const sample = zipfSampler(n, exponent);
  const random = seededRandom(11);
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) counts[sample(random())]!++;
  return counts.map((c) => c / draws);
}

describe('Zipf product popularity', () => {
  it('gives the k-th product a share proportional to 1/k^s', () => {
    const n = 100;
    const expected = zipfProbabilities(n, 1);
    const harmonic = Array.from({ length: n }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
    expect(expected[0]).toBeCloseTo(1 / harmonic, 12);
    const observed = frequencies(n, 1, 300_000);
    for (let k = 0; k < n; k++) expect(Math.abs(observed[k]! - expected[k]!), `rank ${k + 1}`).toBeLessThan(0.004);
    // The skew a shop shows: the top product sells about twice the second, ten times the tenth,
    // and the top tenth of the catalog takes more than half the orders.
    expect(observed[0]! / observed[1]!).toBeGreaterThan(1.85);
    expect(observed[0]! / observed[1]!).toBeLessThan(2.15);
    expect(observed[0]! / observed[9]!).toBeGreaterThan(8.5);
    expect(observed.slice(0, 10).reduce((a, b) => a + b, 0)).toBeGreaterThan(0.55);
  });

  it('is uniform with exponent 0 and more skewed with a larger one', () => {
    for (const f of frequencies(20, 0, 100_000)) expect(Math.abs(f - 0.05)).toBeLessThan(0.004);
    expect(frequencies(50, 1.5, 50_000)[0]).toBeGreaterThan(frequencies(50, 1, 50_000)[0]! + 0.1);
  });

  it('keeps every draw inside the catalog, down to one product', () => {
    const sample = zipfSampler(3, 1);
    for (const u of [0, 0.5, 0.999999999]) expect([0, 1, 2]).toContain(sample(u));
    expect(zipfSampler(1, 1)(0.7)).toBe(0);
    expect(() => zipfSampler(0, 1)).toThrow(RangeError);
    expect(() => zipfSampler(5, -1)).toThrow(RangeError);
  });
});
