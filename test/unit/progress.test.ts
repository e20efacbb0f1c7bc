import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatSeconds, phasedProgress } from '../../cli/progress.js';

function capture(isTTY = false) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text, lines: () => text.split('\n').filter(Boolean) };
}

describe('progress, plain lines (not a terminal)', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it('writes one line per interval with count, share, rate, ETA and fields, then a last line and the summary', () => {
    const out = capture();
    const progress = createProgress({ label: 'load', unit: 'requests', stream: out.stream, intervalMs: 5_000 });
    progress.start(1_000);
    progress.increment(100);
    vi.advanceTimersByTime(4_999);
    expect(out.text()).toBe('');
    progress.increment(150);
    progress.update({ p99: '12 ms', errors: 0 });
    vi.advanceTimersByTime(1);
    expect(out.lines()).toEqual(['load: 250 of 1,000 requests (25 %) · 50.0/s · ETA 15 s · p99 12 ms · errors 0']);

    progress.set(750);
    progress.update({ errors: 2, p99: undefined });
    vi.advanceTimersByTime(5_000);
    // The rate is over the last interval: 500 in 5 s; the ETA from the average, 75/s.
    expect(out.lines()[1]).toBe('load: 750 of 1,000 requests (75 %) · 100/s · ETA 3.3 s · errors 2');

    progress.set(1_000);
    vi.advanceTimersByTime(2_500);
    progress.stop(['summary one', 'summary two']);
    expect(out.lines().slice(2)).toEqual(['load: done, 1,000 requests in 13 s (80.0/s) · errors 2', 'summary one', 'summary two']);
    // Nothing after stop: no more lines, calls ignored.
    progress.increment(5);
    progress.stop('again');
    vi.advanceTimersByTime(60_000);
    expect(out.lines()).toHaveLength(5);
  });

  it('without a total shows the count, rate and elapsed time; a stall still prints', () => {
    const out = capture();
    const progress = createProgress({ label: 'snapshot', stream: out.stream, intervalMs: 2_000 });
    progress.increment();
    progress.start();
    progress.increment(40);
    vi.advanceTimersByTime(2_000);
    vi.advanceTimersByTime(2_000);
    progress.stop();
    expect(out.lines()).toEqual(['snapshot: 40 items · 20.0/s · 2.0 s', 'snapshot: 40 items · 0.0/s · 4.0 s', 'snapshot: done, 40 items in 4.0 s (10.0/s)']);
  });

  it('stops its timer: a stopped progress keeps no process alive and writes nothing more', () => {
    const out = capture();
    const progress = createProgress({ label: 'x', stream: out.stream });
    progress.start(10);
    progress.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports phases one after the other', () => {
    const out = capture();
    const phases = phasedProgress({ stream: out.stream, intervalMs: 1_000, label: 'replay' });
    phases.report('orders', 10, 100);
    vi.advanceTimersByTime(1_000);
    phases.report('orders', 100, 100);
    phases.report('products', 5, 0);
    phases.done();
    expect(out.lines()).toEqual([
      'replay orders: 10 of 100 items (10 %) · 10.0/s · ETA 9.0 s',
      'replay orders: done, 100 items in 1.0 s (100/s)',
      'replay products: done, 5 items in 0.0 s',
    ]);
  });

  it('formats durations for people', () => {
    expect(formatSeconds(3.25)).toBe('3.3 s');
    expect(formatSeconds(42)).toBe('42 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
    expect(formatSeconds(7_300)).toBe('2 h 1 min');
    expect(formatSeconds(Infinity)).toBe('—');
  });
});

describe('progress on a terminal', () => {
  it('draws a cli-progress bar with the count, rate and fields, and ends with the last line', async () => {
    const out = capture(true);
    const progress = createProgress({ label: 'load', unit: 'requests', stream: out.stream });
    progress.start(200);
    progress.increment(50);
    progress.update({ errors: 0 });
    progress.stop();
    const text = out.text();
    expect(text).toMatch(/load \[=+-+\] 25% \| 50\/200 requests \| [\d.,]+\/s \| ETA .+ \| errors 0/);
    expect(text).toMatch(/load: done, 50 of 200 requests in /);
  });
});
