import { describe, expect, it } from 'vitest';
import { tokenBucketLimiter } from '../../api/rate-limit.js';
import { RateLimitedError } from '../../core/errors.js';

describe('token bucket rate limit', () => {
  it('allows a burst, then the sustained rate, per client', () => {
    let now = 0;
    const limit = tokenBucketLimiter({ perSecond: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) limit('a');
    expect(() => limit('a')).toThrow(RateLimitedError);
    limit('b'); // another client has its own bucket
    now += 500; // +1 token
    limit('a');
    expect(() => limit('a')).toThrow(RateLimitedError);
  });

  it('tells when to come back', () => {
    const limit = tokenBucketLimiter({ perSecond: 0.5, burst: 1 }, () => 0);
    limit('a');
    try {
      limit('a');
      expect.unreachable();
    } catch (error) {
      expect((error as RateLimitedError).retryAfterSeconds).toBe(2);
      expect((error as RateLimitedError).code).toBe('RATE_LIMITED');
    }
  });

  it('is off at 0 per second', () => {
    const limit = tokenBucketLimiter({ perSecond: 0, burst: 0 }, () => 0);
    for (let i = 0; i < 1000; i++) limit('a');
  });
});
