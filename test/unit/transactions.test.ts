import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Producer } from '../../kafka/client.js';
import { Transactions, transactionErrorKind } from '../../kafka/transactions.js';

/** A native producer whose calls answer as `answer` says (or never). */
function transactionsOver(answer: (cb: (error: unknown) => void) => void): Transactions {
  const native = {
    beginTransaction: (cb: (error: unknown) => void) => answer(cb),
    commitTransaction: (_timeoutMs: number, cb: (error: unknown) => void) => answer(cb),
    abortTransaction: (_timeoutMs: number, cb: (error: unknown) => void) => answer(cb),
    sendOffsetsToTransaction: () => undefined,
  };
  return new Transactions({ _getInternalClient: () => native } as unknown as Producer);
}

describe('Transactions', () => {
  afterEach(() => vi.useRealTimers());

  it('classifies librdkafka errors: fatal, then requires abort, then retriable', async () => {
    const kinds = [
      { isFatal: true, isRetriable: true },
      { isTxnRequiresAbort: true, isRetriable: true },
      { isRetriable: true },
      {},
    ];
    const seen = [];
    for (const flags of kinds) seen.push(transactionErrorKind(await transactionsOver((cb) => cb({ message: 'x', ...flags })).commit().catch((e: unknown) => e)));
    expect(seen).toEqual(['fatal', 'abortable', 'retriable', 'fatal']);
  });

  it('a commit librdkafka never answers fails fatal after its timeout and a grace; a late answer is ignored', async () => {
    vi.useFakeTimers();
    let late: ((error: unknown) => void) | undefined;
    const outcome = transactionsOver((cb) => (late = cb)).commit(5_000).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(34_000);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_001);
    const error = await outcome;
    expect(transactionErrorKind(error)).toBe('fatal');
    expect(String(error)).toMatch(/commit transaction: no answer 35000 ms after a call with a 5000 ms timeout/);
    late!(null);
  });

  it('a begin librdkafka never answers (it waits without a timeout) fails fatal after the grace', async () => {
    vi.useFakeTimers();
    const outcome = transactionsOver(() => undefined).begin().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30_001);
    const error = await outcome;
    expect(transactionErrorKind(error)).toBe('fatal');
    expect(String(error)).toMatch(/begin transaction: no answer within 30000 ms/);
  });

  it('an answered commit resolves and leaves no timer behind', async () => {
    vi.useFakeTimers();
    await transactionsOver((cb) => cb(null)).commit(5_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
