import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../load/latency.js';
import { seededRandom } from '../../load/random.js';

describe('latency histogram', () => {
  it('gives percentiles within 1 % above the exact ones, never below', () => {
    const random = seededRandom(3);
    const histogram = new LatencyHistogram();
    // A long-tailed mix: most requests a few ms, some tens, a few seconds.
    const values = Array.from({ length: 50_000 }, () => {
      const u = random();
      return u < 0.9 ? 1 + random() * 5 : u < 0.99 ? 10 + random() * 90 : 500 + random() * 4_000;
    });
    for (const v of values) histogram.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      const approx = histogram.percentile(p);
      expect(approx, `p${p}`).toBeGreaterThanOrEqual(exact);
      expect(approx, `p${p}`).toBeLessThanOrEqual(exact * 1.01);
    }
    const figures = histogram.figures();
    expect(figures.count).toBe(50_000);
    expect(figures.max).toBe(sorted[sorted.length - 1]);
    expect(figures.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  });

  it('handles nothing recorded, one value, tiny and huge values, and reset', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(50)).toBeNaN();
    h.record(7.25);
    expect(h.percentile(50)).toBe(7.25);
    expect(h.percentile(99)).toBe(7.25);
    h.record(0);
    h.record(3_600_000);
    // The first bucket holds everything up to 0.01 ms.
    expect(h.percentile(1)).toBe(0.01);
    expect(h.figures().max).toBe(3_600_000);
    h.reset();
    expect(h.figures().count).toBe(0);
  });
});
