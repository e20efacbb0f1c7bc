import { describe, expect, it } from 'vitest';
import { dueAtMs, pace, plannedRequests } from '../../load/pacing.js';

/** A clock that only moves when someone sleeps: the pacer's behaviour without real time. */
function fakeTime() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const advance = async () => {
    // Let pending continuations run, then jump to the earliest timer.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift();
    if (next) {
      now = Math.max(now, next.at);
      next.resolve();
    }
  };
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    /** A request that takes `ms` of fake time. */
    work: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    async run<T>(promise: Promise<T>): Promise<T> {
      let done = false;
      let value!: T;
      promise.then((v) => {
        done = true;
        value = v;
      });
      while (!done) await advance();
      return value;
    },
  };
}

describe('load pacing', () => {
  it('plans rate × duration requests, at most the requests given', () => {
    expect(plannedRequests(50, 60, undefined)).toBe(3_000);
    expect(plannedRequests(2.5, 3, undefined)).toBe(7);
    expect(plannedRequests(1_000, 10, 500)).toBe(500);
    expect(plannedRequests(1_000, undefined, 10_000)).toBe(10_000);
    expect(() => plannedRequests(10, undefined, undefined)).toThrow(RangeError);
    expect(dueAtMs(0, 200)).toBe(0);
    expect(dueAtMs(1_000, 200)).toBe(5_000);
    expect(dueAtMs(3, 3)).toBe(1_000);
  });

  it('starts request i at i / rate when the API keeps up', async () => {
    const time = fakeTime();
    const startedAt: number[] = [];
    const result = await time.run(
      pace({ rate: 100, planned: 50, concurrency: 4, now: time.now, sleep: time.sleep }, async (i) => {
        startedAt[i] = time.now();
        await time.work(5);
      }),
    );
    expect(result).toEqual({ sent: 50, notSent: 0, peakInFlight: 1 });
    startedAt.forEach((at, i) => expect(at, `request ${i}`).toBeCloseTo(i * 10, 6));
  });

  it('keeps at most `concurrency` in flight and falls behind the schedule when the API is slow', async () => {
    const time = fakeTime();
    let inFlight = 0;
    let peak = 0;
    const result = await time.run(
      pace({ rate: 100, planned: 40, concurrency: 2, now: time.now, sleep: time.sleep }, async () => {
        peak = Math.max(peak, ++inFlight);
        await time.work(100);
        inFlight--;
      }),
    );
    expect(result.sent).toBe(40);
    expect(result.peakInFlight).toBe(2);
    expect(peak).toBe(2);
    // 2 in flight × 100 ms each: 20 requests/s instead of 100, so 40 take 2 s, not 0.4 s (the
    // second began 10 ms after the first, on its schedule, and every later one in its slot).
    expect(time.now()).toBe(2_010);
  });

  it('goes ahead when it is behind: late requests do not wait for their slot in the schedule', async () => {
    const time = fakeTime();
    const startedAt: number[] = [];
    await time.run(
      pace({ rate: 10, planned: 6, concurrency: 1, now: time.now, sleep: time.sleep }, async (i) => {
        startedAt[i] = time.now();
        await time.work(i === 0 ? 350 : 1);
      }),
    );
    // Request 0 holds the only slot for 350 ms; 1, 2 and 3 were due at 100, 200, 300: they go
    // one after the other as soon as it frees, then the schedule resumes (4 at 400, 5 at 500).
    expect(startedAt).toEqual([0, 350, 351, 352, 400, 500]);
  });

  it('starts nothing at or after the deadline, and stops on abort', async () => {
    const time = fakeTime();
    const result = await time.run(pace({ rate: 10, planned: 100, concurrency: 5, deadlineMs: 1_000, now: time.now, sleep: time.sleep }, () => time.work(1)));
    expect(result).toMatchObject({ sent: 10, notSent: 90 });

    const controller = new AbortController();
    const aborted = fakeTime();
    let sent = 0;
    const stopped = await aborted.run(
      pace({ rate: 10, planned: 100, concurrency: 5, signal: controller.signal, now: aborted.now, sleep: aborted.sleep }, async () => {
        if (++sent === 3) controller.abort();
        await aborted.work(1);
      }),
    );
    expect(stopped).toMatchObject({ sent: 3, notSent: 97 });
  });

  it('refuses a rate or concurrency that cannot pace', async () => {
    const time = fakeTime();
    await expect(pace({ rate: 0, planned: 1, concurrency: 1, now: time.now, sleep: time.sleep }, async () => undefined)).rejects.toThrow(RangeError);
    await expect(pace({ rate: 1, planned: 1, concurrency: 0, now: time.now, sleep: time.sleep }, async () => undefined)).rejects.toThrow(RangeError);
  });
});
