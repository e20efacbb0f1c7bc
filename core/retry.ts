import { errorMessage, isRetriable } from './errors.js';

export interface RetryOptions {
  /** Attempts in total, the first included. Default 5. */
  attempts?: number;
  /** Delay before the second attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Upper bound of a single delay. Default 5,000 ms. */
  maxDelayMs?: number;
  /** Growth factor of the delay between attempts. Default 2. */
  factor?: number;
  /** No new attempt starts once this long has passed since the first began. Default: no limit. */
  maxElapsedMs?: number;
  /** Which failures are worth another attempt. Default: errors flagged `retriable`. */
  retryOn?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/**
 * The project's one retry helper: exponential backoff with jitter (backoffDelay). Rethrows the last error
 * when attempts run out or when `retryOn` says the failure is final.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const retryOn = options.retryOn ?? isRetriable;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const delayMs = backoffDelay(attempt, options);
      const outOfTime = options.maxElapsedMs !== undefined && Date.now() + delayMs - started > options.maxElapsedMs;
      if (attempt >= attempts || outOfTime || !retryOn(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * The delay after failed attempt `attempt` (1-based): exponential growth from initialDelayMs up
 * to maxDelayMs, with jitter over the upper half. Loops that cannot use `retry` itself (a role
 * restarted by its supervisor, a stream transaction aborted and begun again) wait this long.
 */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor'> = {}): number {
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const factor = options.factor ?? 2;
  const ceiling = Math.min(maxDelayMs, initialDelayMs * factor ** Math.min(attempt - 1, 64));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 250, describe }: { timeoutMs: number; intervalMs?: number; describe: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}${why}`);
    }
    await sleep(intervalMs);
  }
}
