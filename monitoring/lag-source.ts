/**
 * What the lag collector needs from Kafka (the adapter is kafka/lag-source.ts). Offsets are
 * bigints; a partition is `topic` + `partition`.
 */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** The group's committed offset (the next record it will read); null: none for this partition. */
  offset: bigint | null;
}

export interface PartitionEnd {
  partition: number;
  /** Last stable offset: how far read_committed readers get (transactions still open excluded). */
  lastStable: bigint;
  /** First offset still in the log. */
  logStart: bigint;
}

export interface GroupMembership {
  /** Members of the group right now (0: nobody consumes; also for a group the broker does not know). */
  members: number;
  /** The broker's group state (Stable, Empty, Dead, PreparingRebalance…), for logs. */
  state: string;
}

/** A record as the lag collector sees it. */
export interface FirstRecord {
  offset: bigint;
  /** The record's timestamp (CreateTime, or LogAppendTime on topics set so), epoch ms. */
  timestampMs: number;
}

export interface RecordRequest {
  topic: string;
  partition: number;
  offset: bigint;
}

/** `end`: the reader reached the partition's end (for read_committed) without meeting a record. */
export type FirstRecordAnswer = FirstRecord | 'end';

export interface LagSource {
  /** The offsets `group` has committed, for every partition it committed on ([] for an unknown group). */
  committedOffsets(group: string): Promise<CommittedOffset[]>;
  /** Every partition of `topic` with its last stable offset; undefined when the topic does not exist. */
  partitionEnds(topic: string): Promise<PartitionEnd[] | undefined>;
  membership(groups: string[]): Promise<Map<string, GroupMembership>>;
  /**
   * For each request, the first committed record at or after its offset, read as a read_committed
   * consumer outside any group reads it (transaction markers and aborted records are skipped), or
   * `end`. Keyed by `recordKey`; a request missing from the answer could not be read (timed out).
   */
  firstRecords(requests: RecordRequest[]): Promise<Map<string, FirstRecordAnswer>>;
  close(): Promise<void>;
}

export function recordKey(request: RecordRequest): string {
  return `${request.topic}:${request.partition}:${request.offset}`;
}
