import { afterEach, describe, expect, it, vi } from 'vitest';
import { monotonicWallClock, systemClock } from '../../orders/deps.js';

describe('system clock', () => {
  afterEach(() => vi.useRealTimers());

  it('follows the wall clock, also after it is stepped (performance.now() would keep the old offset)', () => {
    // Fake only Date: performance.now() keeps running on its own, as it does when NTP steps the
    // wall clock under a long-running process.
    vi.useFakeTimers({ toFake: ['Date'] });
    const stepped = Date.parse('2031-03-04T05:06:07.891Z');
    vi.setSystemTime(stepped);
    expect(Math.abs(systemClock.nowMicros() - stepped * 1000)).toBeLessThan(5_000);
  });

  it('never goes backwards when the wall clock steps back, and catches up afterwards', () => {
    let wall = 1_000_000;
    const clock = monotonicWallClock(() => wall);
    const first = clock.nowMicros();
    expect(first).toBe(1_000_000_000);
    wall -= 5_000; // stepped back 5 s
    const during = [clock.nowMicros(), clock.nowMicros(), clock.nowMicros()];
    expect(during).toEqual([first + 1, first + 2, first + 3]);
    wall = 1_000_010; // the wall clock is ahead again
    expect(clock.nowMicros()).toBe(1_000_010_000);
  });

  it('is strictly increasing even when many calls share one millisecond', () => {
    const clock = monotonicWallClock(() => 42);
    const times = Array.from({ length: 1_000 }, () => clock.nowMicros());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
  });

  it('reads Date.now() of the moment, close to the real wall time', () => {
    expect(Math.abs(monotonicWallClock().nowMicros() - Date.now() * 1000)).toBeLessThan(5_000);
  });
});
