import { cumulativeOf, weightedIndex } from './random.js';

/**
 * Product popularity like a real shop's: the product of rank k (1-based) is chosen with
 * probability proportional to 1 / k^exponent (Zipf). Exponent 0 is uniform; around 1 a few
 * products take most orders and a long tail sells now and then.
 */
export function zipfProbabilities(n: number, exponent: number): number[] {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** exponent);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Maps a uniform u in [0, 1) to a rank index 0..n-1 (index 0 the most popular), in O(log n). */
export function zipfSampler(n: number, exponent: number): (u: number) => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a Zipf sampler needs at least one item (got ${n})`);
  if (!(exponent >= 0)) throw new RangeError(`the Zipf exponent must be 0 or more (got ${exponent})`);
  const cumulative = cumulativeOf(Array.from({ length: n }, (_, i) => 1 / (i + 1) ** exponent));
  return (u) => weightedIndex(cumulative, u);
}
