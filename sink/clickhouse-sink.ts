import { errorMessage, isRetriable } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { retry } from '../core/retry.js';
import { E2E_LATENCY, LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import { isMembershipLost, type Consumer, type Kafka } from '../kafka/client.js';
import type { TopicNames } from '../kafka/topics.js';
import type { ProductUpsertedPayload } from '../orders/events.js';
import type { PipelineCanaryRecord } from '../canary/model.js';
import type { OrderChange, OrderEnriched } from '../orders/records.js';
import type { AvroRegistry } from '../registry/avro-registry.js';
import type { AnalyticsWriter, RangeLedger } from './ports.js';

export interface SinkOptions {
  /** Consumer group. Default 'shopstream-sink'. */
  groupId: string;
  /** Most records per insert. Default 20,000. */
  maxBatchSize: number;
  /** Most records the consumer hands over per fetch. Default: maxBatchSize. */
  maxFetchRecords: number | undefined;
  /**
   * Partitions loaded at the same time, each its own insert. Default 1, the long-tested setting;
   * 2 loads the two topics side by side (lower commit → queryable latency).
   */
  partitionsConcurrently: number;
  /**
   * How long one load is retried in place (same range, same token) after transient failures of
   * ClickHouse, the registry or the group coordinator, before the partition is read again from its
   * committed offset. Default 60 s: well inside the consumer's max.poll.interval.ms (300 s).
   */
  retryInPlaceMs: number;
  /** Called once when loading cannot go on (a record ClickHouse or the decoder refuses for good). */
  onFatal: (error: unknown) => void;
  /**
   * Called right after an insert into `table` returned (its rows are queryable), before the
   * offsets are committed; must not throw. The canary watcher of this process looks at once.
   * Default: nothing.
   */
  onInserted: (table: LoadedTable) => void;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_SINK_OPTIONS: SinkOptions = {
  groupId: 'shopstream-sink',
  maxBatchSize: 20_000,
  maxFetchRecords: undefined,
  partitionsConcurrently: 1,
  retryInPlaceMs: 60_000,
  onFatal: () => undefined,
  onInserted: () => undefined,
  metrics: noopMetrics,
  logger: createLogger('sink'),
};

interface Message {
  offset: string;
  value: Buffer | null;
}

/** A range recorded in the commit metadata: it is loaded with exactly these bounds and this token. */
interface Range {
  first: bigint;
  last: bigint;
  messages: Message[];
}

/** What this instance knows of a partition it owns. */
interface PartitionState {
  /** Every record before this offset is in ClickHouse. */
  next: bigint;
  /** The range recorded before its insert, and the records of it read so far. */
  pending: Range | undefined;
  /** The consumer was sent to `next` (once per state: it may have started elsewhere). */
  positioned: boolean;
  /** Changes when the partition is revoked: work begun for an older assignment stops. */
  readonly assignment: number;
}

/**
 * The topics the sink loads and their tables (Kafka Connect's configuration on the distributed
 * stack maps the same topics to the same tables; a test holds the two together).
 */
export function loadedTables(topics: TopicNames): Record<string, LoadedTable> {
  return { [topics.ordersEnriched]: 'orders', [topics.orderChanges]: 'order_changes', [topics.products]: 'products', [topics.pipelineCanary]: 'pipeline_canary' };
}

export type LoadedTable = 'orders' | 'order_changes' | 'products' | 'pipeline_canary';

/** Writes decoded records of a loaded table's topic into it (a repeated token is a no-op). */
export function writeTable(writer: AnalyticsWriter, table: LoadedTable, records: Record<string, unknown>[], token: string): Promise<void> {
  switch (table) {
    case 'orders':
      return writer.writeOrders(records as unknown as OrderEnriched[], token);
    case 'order_changes':
      return writer.writeChanges(records as unknown as OrderChange[], token);
    case 'products':
      return writer.writeProducts(records as unknown as ProductUpsertedPayload[], token);
    case 'pipeline_canary':
      return writer.writeCanary(records as unknown as PipelineCanaryRecord[], token);
  }
}

/**
 * The outbox commit time (epoch µs) of each table's records, from which the end-to-end latency is
 * measured: the derived order records carry it as committed_at, the canary's as emitted_at; the
 * catalog's products do not carry it.
 */
const COMMITTED_AT: Record<LoadedTable, string | undefined> = { orders: 'committed_at', order_changes: 'committed_at', pipeline_canary: 'emitted_at', products: undefined };
const CLICKHOUSE_STAGE = { stage: 'clickhouse' };

/** A pending range in the commit metadata, as sinks before the ledger recorded it. */
const LEGACY_PENDING = /^shopstream-sink pending (\d+) (\d+)$/;

/** The partition was revoked (or the group moved on) while one of its loads was under way. */
class PartitionMovedError extends Error {
  readonly retriable = false;
}

/**
 * Loads shop.orders-enriched.v1, shop.order-changes.v1, the catalog (shop.products.v1) and the
 * canary's heartbeats (shop.pipeline-canary.v1) into ClickHouse, exactly once.
 *
 * Every insert is one partition's offset range [first, last] with the deduplication token
 * `<topic>-<partition>-<first>-<last>`. Before inserting, the sink records the range in its
 * ledger in ClickHouse (RangeLedger; the latest range of a partition is the one with the highest
 * first offset, whatever order writes land in); after ClickHouse accepted the insert it commits
 * last + 1 to the consumer group. Whoever takes the partition over (this instance after a
 * failure, a restart, the next owner after a rebalance) reads the latest recorded range: unless
 * the group's committed offset is past it, it loads exactly that range again — the records with
 * offsets first..last, whatever fetches they arrive in, under the same token — so ClickHouse
 * drops whatever of it had landed, from the table and its materialized views; then it goes on
 * after it. A range, once recorded, is never loaded with other bounds.
 *
 * Why a ledger, not the commit metadata: the client's commits only queue (commitAsync), and a
 * commit sent to a broker that stalls can land after later ones or be dropped with the group's
 * generation, so the group's committed offset may go back. It is a lower bound of what is
 * loaded (progress, lag), never the record a rebuild depends on.
 *
 * Failures: a transient one (ClickHouse, the registry, the coordinator) retries the same step in
 * place, with backoff, for up to retryInPlaceMs; after that, or when the partition moves, the
 * partition is read again from its committed offset and the recorded range rebuilt. A failure
 * that cannot pass (ClickHouse or the decoder refuses a record) calls `onFatal` and stops
 * loading. Only committed stream transactions are read.
 */
export class ClickHouseSink {
  private readonly options: SinkOptions;
  private readonly consumer: Consumer;
  private readonly partitions = new Map<string, PartitionState>();
  private assignments = 0;
  private failure: unknown;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly partitionWork = new Map<string, Promise<void>>();
  private readonly instruments;
  /** Per topic loaded: its table, how its records are written, and their outbox commit time field. */
  private readonly targets: Map<string, { table: LoadedTable; write: (records: Record<string, unknown>[], token: string) => Promise<void>; committedAt: string | undefined }>;

  constructor(
    kafka: Kafka,
    private readonly registry: AvroRegistry,
    private readonly writer: AnalyticsWriter,
    private readonly ledger: RangeLedger,
    private readonly topics: TopicNames,
    options: Partial<SinkOptions> = {},
  ) {
    this.options = { ...DEFAULT_SINK_OPTIONS, ...options };
    this.targets = new Map(
      Object.entries(loadedTables(topics)).map(([topic, table]) => [
        topic,
        { table, write: (records: Record<string, unknown>[], token: string) => writeTable(writer, table, records, token), committedAt: COMMITTED_AT[table] },
      ]),
    );
    this.consumer = kafka.consumer({
      kafkaJS: { groupId: this.options.groupId, fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      'js.consumer.max.batch.size': this.options.maxFetchRecords ?? this.options.maxBatchSize,
      'fetch.wait.max.ms': 10,
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 3_000,
      // A rebalance may hand a partition to another instance: forget what was known of it.
      rebalance_cb: () => {
        this.assignments++;
        this.partitions.clear();
      },
    });
    const metrics = this.options.metrics;
    this.instruments = {
      rows: metrics.counter({ name: 'shopstream_sink_rows_total', help: 'Rows inserted into ClickHouse', labelNames: ['table'] }),
      batch: metrics.histogram({ name: 'shopstream_sink_batch_size', help: 'Records per ClickHouse insert', buckets: [1, 10, 100, 1_000, 5_000, 20_000] }),
      insertLatency: metrics.histogram({ name: 'shopstream_sink_insert_latency_seconds', help: 'Duration of one ClickHouse insert', buckets: LATENCY_BUCKETS }),
      endToEnd: metrics.histogram({ name: 'shopstream_end_to_end_latency_seconds', help: 'Outbox commit to queryable in ClickHouse', buckets: LATENCY_BUCKETS }),
      stage: metrics.histogram(E2E_LATENCY),
      retries: metrics.counter({ name: 'shopstream_sink_retries_total', help: 'Sink steps retried after a transient failure', labelNames: ['step'] }),
      rereads: metrics.counter({ name: 'shopstream_sink_rereads_total', help: 'Partitions read again from their committed offset after a failed load' }),
    };
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.targets.keys()] });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: async ({ batch }) => {
        // A stopped sink loads nothing more; its successor starts from the committed offsets.
        if (this.failure || this.closing.signal.aborted) return;
        // One load of a partition at a time, also across a rebalance that hands the partition
        // back while a load of the earlier assignment still runs: the new assignment reads the
        // ledger only once the old load's steps are over (it stops at its next step).
        const key = `${batch.topic}:${batch.partition}`;
        const previous = this.partitionWork.get(key);
        const work = (previous ?? Promise.resolve()).then(() => (this.failure || this.closing.signal.aborted ? undefined : this.handle(batch.topic, batch.partition, batch.messages)));
        const settled = work.catch(() => undefined);
        this.partitionWork.set(key, settled);
        void settled.then(() => this.partitionWork.get(key) === settled && this.partitionWork.delete(key));
        this.inFlight.add(work);
        try {
          await work;
        } catch (error) {
          if (this.closing.signal.aborted) return;
          if (!(error instanceof PartitionMovedError) && !isRetriable(error)) return this.fail(error);
          this.reread(batch.topic, batch.partition);
          if (isRetriable(error)) this.options.logger.warn('load failed; the partition is read again from its committed offset', { topic: batch.topic, partition: batch.partition, error });
        } finally {
          this.inFlight.delete(work);
        }
      },
    });
  }

  /**
   * Stops loading: a load in progress ends at its next step (its range stays recorded), and no
   * step of this instance runs once `close` resolved (a replay swaps tables only then).
   */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.consumer.disconnect().catch(() => undefined);
  }

  /**
   * Forgets what was read of the partition and makes the consumer fetch it again from the
   * committed offset (the start of a recorded range, or the first record not loaded). Seeking
   * inside eachBatch also keeps the consumer from seeking to the batch's own first offset.
   */
  private reread(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    const state = this.partitions.get(key);
    this.partitions.delete(key);
    if (!state || state.assignment !== this.assignments) return;
    this.instruments.rereads.inc();
    try {
      this.consumer.seek({ topic, partition, offset: String(state.next) });
    } catch {
      // Not connected any more: the next assignment starts from the committed offset anyway.
    }
  }

  private async handle(topic: string, partition: number, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const key = `${topic}:${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = await this.loadedState(topic, partition);
      this.partitions.set(key, state);
    }
    if (!state.positioned) {
      state.positioned = true;
      // The consumer starts at the committed offset, which may be ahead of a range to rebuild.
      if (BigInt(messages[0]!.offset) > state.next) {
        this.consumer.seek({ topic, partition, offset: String(state.next) });
        return;
      }
    }
    // Records before `next` are loaded already (a seek of an earlier assignment, or a committed
    // offset that went back, may bring them again).
    let rest = messages.filter((m) => BigInt(m.offset) >= state.next);
    const range = state.pending;
    if (range) {
      // Rebuild the recorded range exactly, across as many fetches as it takes.
      const collected = range.messages.length === 0 ? -1n : BigInt(range.messages[range.messages.length - 1]!.offset);
      range.messages.push(...rest.filter((m) => BigInt(m.offset) >= range.first && BigInt(m.offset) <= range.last && BigInt(m.offset) > collected));
      rest = rest.filter((m) => BigInt(m.offset) > range.last);
      if (BigInt(messages[messages.length - 1]!.offset) < range.last) return;
      await this.load(topic, partition, state, range);
    }
    for (let i = 0; i < rest.length; i += this.options.maxBatchSize) {
      const chunk = rest.slice(i, i + this.options.maxBatchSize);
      await this.record(topic, partition, state, { first: BigInt(chunk[0]!.offset), last: BigInt(chunk[chunk.length - 1]!.offset), messages: chunk });
      await this.load(topic, partition, state, state.pending!);
    }
  }

  /**
   * Where loading of the partition stands: the latest recorded range, to be loaded again unless
   * the group's committed offset is past it (only a finished insert is followed by that commit),
   * else the committed offset.
   */
  private async loadedState(topic: string, partition: number): Promise<PartitionState> {
    const assignment = this.assignments;
    const [[committed], recorded] = await Promise.all([
      this.step('read committed offset', assignment, () => this.consumer.committed([{ topic, partition }])),
      this.step('read recorded range', assignment, () => this.ledger.lastRange(topic, partition)),
    ]);
    // @confluentinc/kafka-javascript reports a committed offset of 0 as null (a falsy check);
    // "no committed offset" comes back as -1001, so null here can only be 0.
    const offset = BigInt(committed?.offset ?? '0');
    const next = offset < 0n ? 0n : offset;
    const legacy = LEGACY_PENDING.exec(committed?.metadata ?? '');
    const range = recorded ?? (legacy && next === BigInt(legacy[1]!) ? { first: BigInt(legacy[1]!), last: BigInt(legacy[2]!) } : undefined);
    if (!range || next > range.last) return { next, pending: undefined, positioned: false, assignment };
    this.options.logger.info('loading the latest recorded range again (whatever of it landed is dropped)', { topic, partition, first: String(range.first), last: String(range.last) });
    return { next: range.first, pending: { ...range, messages: [] }, positioned: false, assignment };
  }

  /** Records the range in the ledger: from here on it is loaded only whole, with these bounds. */
  private async record(topic: string, partition: number, state: PartitionState, range: Range): Promise<void> {
    await this.step('record range', state.assignment, () => this.ledger.recordRange(topic, partition, range.first, range.last));
    state.next = range.first;
    state.pending = range;
  }

  /** Inserts the recorded range under its token, then commits past it. */
  private async load(topic: string, partition: number, state: PartitionState, range: Range): Promise<void> {
    const token = `${topic}-${partition}-${range.first}-${range.last}`;
    const { table, write, committedAt } = this.targets.get(topic)!;
    const records = await this.step('decode', state.assignment, () => Promise.all(range.messages.map(async (message) => (await this.registry.decode(message.value)).value)));
    const started = performance.now();
    if (records.length > 0) await this.step('insert', state.assignment, () => write(records, token));
    const inserted = performance.now();
    // Queryable from here: the insert returned (not a column DEFAULT evaluated while the block was formed).
    const queryableAt = Date.now() * 1000;
    if (records.length > 0) this.options.onInserted(table);
    const next = range.last + 1n;
    await this.step('commit', state.assignment, () => this.consumer.commitOffsets([{ topic, partition, offset: String(next), metadata: '' }]));
    state.next = next;
    state.pending = undefined;
    if (records.length === 0) return;
    this.instruments.insertLatency.observe((inserted - started) / 1000);
    this.instruments.rows.inc({ table }, records.length);
    this.instruments.batch.observe(records.length);
    if (!committedAt) return;
    for (const r of records) {
      const seconds = Math.max(0, queryableAt - Number(r[committedAt])) / 1e6;
      this.instruments.endToEnd.observe(seconds);
      this.instruments.stage.observe(seconds, CLICKHOUSE_STAGE);
    }
  }

  /**
   * One step of a load, retried in place while its failures are transient, the partition is
   * still this instance's and the sink is not closing. Ends with PartitionMovedError when the
   * partition moved (the group went on without this member, or it was revoked).
   */
  private async step<T>(name: string, assignment: number, operation: () => Promise<T>): Promise<T> {
    const moved = () => assignment !== this.assignments;
    try {
      return await retry(
        async () => {
          if (moved()) throw new PartitionMovedError(`the partition moved during ${name}`);
          if (this.closing.signal.aborted) throw new PartitionMovedError(`the sink closed before ${name}`);
          return await operation();
        },
        {
          attempts: Number.POSITIVE_INFINITY,
          initialDelayMs: 100,
          maxDelayMs: 5_000,
          maxElapsedMs: this.options.retryInPlaceMs,
          signal: this.closing.signal,
          retryOn: (error) => !moved() && !isMembershipLost(error) && (isRetriable(error) || isTransientKafkaError(error)),
          onRetry: (error, attempt, delayMs) => {
            this.instruments.retries.inc({ step: name });
            if (attempt === 1 || attempt % 10 === 0) this.options.logger.warn(`${name} failed; retrying`, { attempt, delayMs, error: errorMessage(error) });
          },
        },
      );
    } catch (error) {
      if (isMembershipLost(error)) throw new PartitionMovedError(`the group moved on during ${name}: ${errorMessage(error)}`);
      throw error;
    }
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.options.logger.error('loading stopped: a record cannot be loaded', { error });
    this.options.onFatal(error);
  }
}

/** A Kafka client error other than a lost membership (a coordinator away, a timeout): worth another try. */
function isTransientKafkaError(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown };
  return typeof e?.code === 'number' && typeof e.name === 'string' && e.name.startsWith('KafkaJS');
}

