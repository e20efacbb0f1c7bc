import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../core/errors.js';

/** The counters of one limit: `points` per window of `duration` seconds for each key. */
export interface RateLimitWindow {
  keyPrefix: string;
  points: number;
  duration: number;
}

/**
 * Where the counters live. In memory (the default) each process counts on its own, so N replicas
 * allow N times the budget; a shared store (mysql/rate-limit-store.ts; a RateLimiterRedis would
 * do as well) gives every replica one budget per client.
 */
export type RateLimitStore = (window: RateLimitWindow) => RateLimiterAbstract;

export const memoryRateLimitStore: RateLimitStore = (window) => new RateLimiterMemory(window);

export interface RateLimitOptions {
  /** Sustained writes per second per client; 0 turns the limit off. */
  perSecond: number;
  /** Writes a client may spend at once: `burst` per window of burst/perSecond seconds. */
  burst: number;
  /** Default: memoryRateLimitStore. */
  store?: RateLimitStore;
}

/**
 * A fixed-window limiter (rate-limiter-flexible) per client key: each client may spend `burst`
 * writes per window of burst/perSecond seconds, so its long-run rate is at most perSecond. Over
 * budget, the call fails with RateLimitedError carrying the seconds until the window resets.
 * A store that fails (rather than refusing) fails the call with its own error.
 */
export function rateLimiter(options: RateLimitOptions): (key: string) => Promise<void> {
  if (options.perSecond <= 0) return async () => undefined;
  const burst = Math.max(1, options.burst);
  const limiter = (options.store ?? memoryRateLimitStore)({ keyPrefix: 'writes', points: burst, duration: burst / options.perSecond });
  return async (key) => {
    try {
      await limiter.consume(key);
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
      throw refusal;
    }
  };
}
