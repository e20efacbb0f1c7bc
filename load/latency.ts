/**
 * Request latencies in bounded memory, however long the run: a histogram of logarithmic
 * buckets, each 1 % wider than the one before, from 0.01 ms to 10 minutes (about 1,800
 * buckets). A percentile is the upper edge of the bucket holding it, so it is at most 1 % above
 * the exact value (and never below it; values under 0.01 ms count as 0.01 ms); min, max and
 * mean are exact.
 */
const MIN_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_GROWTH) + 1;

export interface LatencyFigures {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  private sum = 0;
  private min = Infinity;
  private maxSeen = 0;

  record(ms: number): void {
    const value = Math.max(ms, 0);
    const index = value <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(value / MIN_MS) / LOG_GROWTH - 1e-9));
    this.counts[index]!++;
    this.count++;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.maxSeen = Math.max(this.maxSeen, value);
  }

  /** The p-th percentile (0 < p ≤ 100) in ms; NaN when nothing was recorded. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Math.max(MIN_MS * GROWTH ** i, this.min), this.maxSeen);
    }
    return this.maxSeen;
  }

  figures(): LatencyFigures {
    return {
      count: this.count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.count === 0 ? NaN : this.maxSeen,
      mean: this.count === 0 ? NaN : this.sum / this.count,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.maxSeen = 0;
  }
}
