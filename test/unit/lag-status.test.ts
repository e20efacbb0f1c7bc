import { describe, expect, it } from 'vitest';
import { observe, partitionStatus, worst, type PartitionHistory, type StatusOptions } from '../../monitoring/status.js';

const options: StatusOptions = { windowSamples: 4, stallAfterMs: 30_000, stopAfterMs: 120_000 };

/** The history after samples [atMs, committed, lag], in order. */
function history(samples: [number, number, number][]): PartitionHistory {
  let h: PartitionHistory | undefined;
  for (const [atMs, committed, lag] of samples) h = observe(h, { atMs, committed: BigInt(committed), lag: BigInt(lag) }, options.windowSamples);
  return h!;
}
const statusAt = (samples: [number, number, number][], members: number | undefined = 1) => partitionStatus(history(samples), samples[samples.length - 1]![0], options, members);

describe('consumer group status rules', () => {
  it('is OK when lag is 0, whatever else holds', () => {
    expect(statusAt([[0, 10, 5], [60_000, 10, 5], [200_000, 10, 0]])).toBe('OK');
    expect(statusAt([[0, 10, 0]], 0)).toBe('OK'); // no members but nothing to read
  });

  it('is STOP when nobody consumes a partition that has lag', () => {
    expect(statusAt([[0, 10, 3]], 0)).toBe('STOP');
    expect(statusAt([[0, 10, 3]], undefined)).toBe('OK'); // membership unknown: rule skipped
  });

  it('is STALL, then STOP, while the committed offset does not move and lag stays > 0', () => {
    const stuck: [number, number, number][] = [[0, 10, 3], [10_000, 10, 4], [29_999, 10, 4]];
    expect(statusAt(stuck)).toBe('OK');
    expect(statusAt([...stuck, [30_000, 10, 5]])).toBe('STALL');
    expect(statusAt([...stuck, [119_999, 10, 5]])).toBe('STALL');
    expect(statusAt([...stuck, [120_000, 10, 5]])).toBe('STOP');
  });

  it('times a stall from the first sample with lag, not from the last commit', () => {
    // Idle and caught up for an hour at offset 10, then a record arrives.
    expect(statusAt([[0, 10, 0], [3_600_000, 10, 0], [3_605_000, 10, 1]])).toBe('OK');
    expect(statusAt([[0, 10, 0], [3_600_000, 10, 0], [3_605_000, 10, 1], [3_635_000, 10, 1]])).toBe('STALL');
    // Lag back to 0 and up again: the clock starts again.
    expect(statusAt([[0, 10, 2], [40_000, 10, 0], [50_000, 10, 2]])).toBe('OK');
  });

  it('is OK while the committed offset advances, WARN when lag grows over a full window', () => {
    expect(statusAt([[0, 10, 5], [5_000, 20, 5], [10_000, 30, 4], [15_000, 40, 6]])).toBe('OK'); // lag went down once
    expect(statusAt([[0, 10, 5], [5_000, 20, 6], [10_000, 30, 6], [15_000, 40, 9]])).toBe('WARN');
    expect(statusAt([[5_000, 20, 6], [10_000, 30, 6], [15_000, 40, 9]])).toBe('OK'); // window not full yet
    expect(statusAt([[0, 10, 5], [5_000, 20, 5], [10_000, 30, 5], [15_000, 40, 5]])).toBe('OK'); // constant lag: keeping up
    // Only the last windowSamples samples count.
    expect(statusAt([[0, 10, 50], [5_000, 20, 1], [10_000, 30, 2], [15_000, 40, 3], [20_000, 50, 4]])).toBe('WARN');
  });

  it('resets the stall clock whenever the committed offset moves', () => {
    const samples: [number, number, number][] = [];
    for (let i = 0; i < 100; i++) samples.push([i * 20_000, 10 + i, 100]);
    expect(statusAt(samples)).toBe('OK');
  });

  it('takes the worst partition for the group', () => {
    expect(worst([])).toBe('OK');
    expect(worst(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(worst(['STALL', 'WARN', 'STOP', 'OK'])).toBe('STOP');
  });
});
