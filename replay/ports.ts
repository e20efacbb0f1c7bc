/** What a replay needs of Kafka, of ClickHouse and of the live pipeline (adapters at the edges). */

/** Offsets [from, to) of one partition: `to` is exclusive (a last stable offset when frozen). */
export interface PartitionRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

export interface SourceRecord {
  offset: bigint;
  value: Buffer | null;
}

export interface PartitionEnds {
  partition: number;
  logStart: bigint;
  /** The last stable offset: every record before it is committed or aborted. */
  lastStable: bigint;
}

/** Reads topics outside any consumer group (assigned partitions, nothing committed), read_committed. */
export interface RangeSource {
  ends(topic: string): Promise<PartitionEnds[]>;
  /** Per partition, the first offset whose timestamp is at or after `timestampMs` (the end when none is). */
  offsetsForTime(topic: string, timestampMs: number): Promise<Map<number, bigint>>;
  /**
   * Hands over the committed records of the range in offset order, in batches of at most
   * `maxBatch`; resolves once the range is read (markers and aborted records skipped).
   */
  read(range: PartitionRange, maxBatch: number, onRecords: (records: SourceRecord[]) => Promise<void>, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** The analytics tables of a database and their shadows (ClickHouse). */
export interface ShadowTables {
  /** Creates the shadow database with every table and view the live one has (idempotent). */
  create(shadow: string): Promise<void>;
  /** Exchanges each named table of the live database with its shadow (each exchange atomic). */
  exchange(shadow: string, tables: readonly string[]): Promise<void>;
  drop(shadow: string): Promise<void>;
  exists(shadow: string): Promise<boolean>;
}

/** Where a replay's manifest lives, beside its shadow (it survives kill -9 with it). */
export interface ManifestStore {
  load(shadow: string): Promise<string | undefined>;
  save(shadow: string, manifest: string): Promise<void>;
}

/** The live sink of this process, paused while a shadow catches up with it and is swapped in. */
export interface LiveSink {
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * The stream processor of this process, for `--reset-streams`: paused and resumed like the sink;
 * `reset` (while paused) deletes its changelogs and its consumer group, so the next instance
 * starts with empty stores from the earliest input, like the Kafka Streams reset tool.
 */
export interface LiveStreams {
  readonly inputTopics: readonly string[];
  /** The topics it writes that the sink loads. */
  readonly outputTopics: readonly string[];
  pause(): Promise<void>;
  resume(): Promise<void>;
  reset(): Promise<void>;
  /** Committed offsets of its group, keyed `topic:partition`. */
  committed(): Promise<Map<string, bigint>>;
}
