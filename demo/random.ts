/** A seeded pseudo-random source (mulberry32): the same seed gives the same demo. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** An index of `weights`, with probability proportional to its weight. */
  weighted(weights: readonly number[]): number;
  /** true with probability p. */
  chance(p: number): boolean;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    weighted(weights) {
      const total = weights.reduce((sum, w) => sum + w, 0);
      let pick = next() * total;
      for (const [index, weight] of weights.entries()) {
        pick -= weight;
        if (pick < 0) return index;
      }
      return weights.length - 1;
    },
    chance: (p) => next() < p,
  };
}
