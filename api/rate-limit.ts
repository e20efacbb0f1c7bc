import { RateLimitedError } from '../core/errors.js';

export interface RateLimitOptions {
  /** Sustained writes per second per client; 0 turns the limit off. */
  perSecond: number;
  /** Writes a client may burst above the rate. */
  burst: number;
}

/**
 * A token bucket per client key (the client's address). Memory is bounded: buckets that have
 * refilled completely carry no information and are dropped on the next sweep.
 */
export function tokenBucketLimiter(options: RateLimitOptions, now: () => number = () => performance.now()) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return (key: string): void => {
    if (options.perSecond <= 0) return;
    const t = now();
    if (t - lastSweep > 60_000) {
      for (const [k, bucket] of buckets) if (bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond >= options.burst) buckets.delete(k);
      lastSweep = t;
    }
    const bucket = buckets.get(key) ?? { tokens: options.burst, at: t };
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond);
    bucket.at = t;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) throw new RateLimitedError(Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond)));
    bucket.tokens -= 1;
  };
}
