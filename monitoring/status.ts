/**
 * Status of a consumer group in the spirit of Burrow, from the collector's own samples of each
 * partition (committed offset and messages lag at each collection). Per partition, first rule that
 * applies:
 *
 * 1. OK     lag is 0 now;
 * 2. STOP   the group has no active members (nobody consumes; Empty or unknown to the broker);
 * 3. STOP   the committed offset has not moved for `stopAfterMs` while lag was > 0 at every sample;
 * 4. STALL  the same for `stallAfterMs`;
 * 5. WARN   over a full window (the last `windowSamples` samples) the committed offset advanced
 *           but lag grew: never smaller than at the sample before, larger at the end than at the
 *           start (the consumer is falling behind);
 * 6. OK     otherwise (consuming, keeping up).
 *
 * The group's status is its worst partition's (OK < WARN < STALL < STOP); OK with no partitions.
 * "Not moved while lag > 0" is timed from the first sample with lag at the current committed
 * offset, so a group idle and caught up for hours does not read STOP the moment a record arrives.
 */
export const STATUSES = ['OK', 'WARN', 'STALL', 'STOP'] as const;
export type GroupStatus = (typeof STATUSES)[number];

export interface StatusOptions {
  /** Samples in the window WARN looks at. Default 10 (50 s at the default interval). */
  windowSamples: number;
  /** Committed offset unmoved with lag > 0 for this long: STALL. Default 30 s. */
  stallAfterMs: number;
  /** … for this long: STOP. Default 120 s. */
  stopAfterMs: number;
}

export const DEFAULT_STATUS_OPTIONS: StatusOptions = { windowSamples: 10, stallAfterMs: 30_000, stopAfterMs: 120_000 };

export interface Sample {
  atMs: number;
  committed: bigint;
  lag: bigint;
}

export interface PartitionHistory {
  /** The last `windowSamples` samples, oldest first. */
  samples: Sample[];
  /** When lag was first seen > 0 at the current committed offset; undefined while lag is 0. */
  pendingSinceMs: number | undefined;
}

/** The history after one more sample. */
export function observe(history: PartitionHistory | undefined, sample: Sample, windowSamples: number): PartitionHistory {
  const previous = history?.samples[history.samples.length - 1];
  const moved = previous === undefined || previous.committed !== sample.committed;
  const pendingSinceMs = sample.lag === 0n ? undefined : moved || history?.pendingSinceMs === undefined ? sample.atMs : history.pendingSinceMs;
  const samples = [...(history?.samples ?? []), sample].slice(-Math.max(2, windowSamples));
  return { samples, pendingSinceMs };
}

/** `activeMembers` undefined: membership not known at this collection (rule 2 skipped). */
export function partitionStatus(history: PartitionHistory, nowMs: number, options: StatusOptions, activeMembers: number | undefined): GroupStatus {
  const { samples, pendingSinceMs } = history;
  const last = samples[samples.length - 1];
  if (!last || last.lag === 0n) return 'OK';
  if (activeMembers === 0) return 'STOP';
  if (pendingSinceMs !== undefined && nowMs - pendingSinceMs >= options.stopAfterMs) return 'STOP';
  if (pendingSinceMs !== undefined && nowMs - pendingSinceMs >= options.stallAfterMs) return 'STALL';
  if (samples.length >= Math.max(2, options.windowSamples) && fallingBehind(samples)) return 'WARN';
  return 'OK';
}

function fallingBehind(samples: Sample[]): boolean {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  if (last.committed <= first.committed || last.lag <= first.lag) return false;
  return samples.every((sample, i) => i === 0 || sample.lag >= samples[i - 1]!.lag);
}

export function worst(statuses: Iterable<GroupStatus>): GroupStatus {
  let result: GroupStatus = 'OK';
  for (const status of statuses) if (STATUSES.indexOf(status) > STATUSES.indexOf(result)) result = status;
  return result;
}
