import type { FirstRecord, FirstRecordAnswer, RecordRequest } from './lag-source.js';
import { recordKey } from './lag-source.js';

/**
 * Lag of one partition for one group, exact at the moment of a collection:
 * - `messages` = last stable offset − committed offset, clamped at 0; and 0 when no committed
 *   record lies between the two (only transaction markers or aborted records: an exactly-once
 *   producer leaves a marker after every transaction, and a consumer that read everything commits
 *   the marker's offset, one below the end);
 * - `seconds` = now − timestamp of the first committed record at or after the committed offset
 *   (the first record the group has not consumed), clamped at 0; 0 whenever `messages` is 0.
 * `first` is that record, or `end` when the reader met none before the partition's end.
 */
export function partitionLag(committed: bigint, lastStable: bigint, first: FirstRecordAnswer | undefined, nowMs: number): { messages: bigint; seconds: number } {
  if (committed >= lastStable || first === undefined || first === 'end' || first.offset >= lastStable) return { messages: 0n, seconds: 0 };
  return { messages: lastStable - committed, seconds: Math.max(0, (nowMs - first.timestampMs) / 1000) };
}

interface Entry {
  found?: FirstRecord;
  /** No committed record in [offset, scannedTo). */
  scannedTo?: bigint;
  used: boolean;
}

/**
 * The first record at or after a committed offset, remembered per (topic, partition, offset): a
 * record below the last stable offset never changes, so a consumer stuck at an offset costs one
 * read, not one per collection. "None before offset X" holds until the last stable offset passes
 * X; the next read then starts at X. Entries not used during a collection are dropped by `prune`.
 */
export class FirstRecordCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * What `partitionLag` needs as `first`: the known answer, or the request that must be read
   * first (its offset may be past `committed`, where an earlier read ended).
   */
  lookup(topic: string, partition: number, committed: bigint, lastStable: bigint): { first: FirstRecordAnswer } | { read: RecordRequest } {
    if (committed >= lastStable) return { first: 'end' };
    const key = recordKey({ topic, partition, offset: committed });
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { used: true }));
    entry.used = true;
    if (entry.found) return { first: entry.found };
    if (entry.scannedTo !== undefined && entry.scannedTo >= lastStable) return { first: 'end' };
    return { read: { topic, partition, offset: entry.scannedTo ?? committed } };
  }

  /** Records what reading `request` (asked for the entry at `committed`) found, with the last stable offset sampled before it. */
  store(committed: bigint, request: RecordRequest, answer: FirstRecordAnswer, lastStable: bigint): void {
    const entry = this.entries.get(recordKey({ ...request, offset: committed }));
    if (!entry) return;
    if (answer === 'end') entry.scannedTo = lastStable > (entry.scannedTo ?? 0n) ? lastStable : entry.scannedTo;
    else entry.found = answer;
  }

  /** Drops the entries no partition asked for since the previous prune. */
  prune(): void {
    for (const [key, entry] of this.entries) {
      if (!entry.used) this.entries.delete(key);
      else entry.used = false;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
