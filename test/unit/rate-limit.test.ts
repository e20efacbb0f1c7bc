import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { rateLimiter, type RateLimitWindow } from '../../api/rate-limit.js';
import { RateLimitedError } from '../../core/errors.js';

const refusal = async (attempt: Promise<void>): Promise<RateLimitedError> => {
  const error = await attempt.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
};

describe('write rate limit (rate-limiter-flexible)', () => {
  it('allows the burst, then refuses until the window resets, per client', async () => {
    const limit = rateLimiter({ perSecond: 20, burst: 3 }); // 3 per 150 ms window
    for (let i = 0; i < 3; i++) await limit('ip:a');
    await refusal(limit('ip:a'));
    await limit('ip:b'); // another client has its own budget
    await sleep(200);
    await limit('ip:a');
  });

  it('tells when to come back, in whole seconds', async () => {
    const limit = rateLimiter({ perSecond: 0.5, burst: 1 }); // 1 per 2 s
    await limit('ip:a');
    const error = await refusal(limit('ip:a'));
    expect(error.retryAfterSeconds).toBe(2);
    expect(error.code).toBe('RATE_LIMITED');
  });

  it('is off at 0 per second', async () => {
    const limit = rateLimiter({ perSecond: 0, burst: 0 });
    for (let i = 0; i < 1000; i++) await limit('ip:a');
  });

  it('counts in the store it is given: two limiters on one store share each client\'s budget', async () => {
    const windows: RateLimitWindow[] = [];
    const shared = new RateLimiterMemory({ keyPrefix: 'writes', points: 4, duration: 2 });
    const store = (window: RateLimitWindow) => (windows.push(window), shared);
    const replicaA = rateLimiter({ perSecond: 2, burst: 4, store });
    const replicaB = rateLimiter({ perSecond: 2, burst: 4, store });
    expect(windows).toEqual([
      { keyPrefix: 'writes', points: 4, duration: 2 },
      { keyPrefix: 'writes', points: 4, duration: 2 },
    ]);
    await replicaA('token:x');
    await replicaB('token:x');
    await replicaA('token:x');
    await replicaB('token:x');
    await refusal(replicaA('token:x'));
  });

  it('a failing store fails the call with its own error, not as a refusal', async () => {
    const broken = new RateLimiterMemory({ points: 1, duration: 1 });
    broken.consume = () => Promise.reject(new Error('store down'));
    const limit = rateLimiter({ perSecond: 1, burst: 1, store: () => broken });
    await expect(limit('ip:a')).rejects.toThrow('store down');
  });
});
