import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { Consumer, Kafka } from '../kafka/client.js';
import type { TopicNames } from '../kafka/topics.js';
import type { OrderChange, OrderEnriched } from '../orders/records.js';
import type { AvroRegistry } from '../registry/avro-registry.js';
import type { AnalyticsWriter } from './ports.js';

export interface SinkOptions {
  /** Consumer group. Default 'shopstream-sink'. */
  groupId: string;
  /** Most records per insert. Default 20,000. */
  maxBatchSize: number;
  /**
   * Partitions loaded at the same time, each its own insert. Default 1, the long-tested setting;
   * 2 loads the two topics side by side (lower commit → queryable latency).
   */
  partitionsConcurrently: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_SINK_OPTIONS: SinkOptions = {
  groupId: 'shopstream-sink',
  maxBatchSize: 20_000,
  partitionsConcurrently: 1,
  metrics: noopMetrics,
  logger: createLogger('sink'),
};

interface Message {
  offset: string;
  value: Buffer | null;
}

const PENDING = /^shopstream-sink pending (\d+) (\d+)$/;

/**
 * Loads shop.orders-enriched.v1 and shop.order-changes.v1 into ClickHouse, exactly once.
 *
 * Every insert is one partition's offset range [first, last] with the deduplication token
 * `<topic>-<partition>-<first>-<last>`. Before inserting, the sink commits the range's start
 * offset with the range in the commit metadata; after ClickHouse accepted the insert it commits
 * last + 1. After a crash the committed metadata names the range that may or may not have
 * landed: the sink rebuilds exactly that range (same records, same token), so ClickHouse drops it
 * if it had landed, from the table and its materialized views. Only committed stream
 * transactions are read.
 */
export class ClickHouseSink {
  private readonly options: SinkOptions;
  private readonly consumer: Consumer;
  /** Per topic-partition: the range a restart must rebuild, and what has been read of it. */
  private readonly pending = new Map<string, { first: bigint; last: bigint; messages: Message[] } | null>();
  private readonly instruments;

  constructor(
    kafka: Kafka,
    private readonly registry: AvroRegistry,
    private readonly writer: AnalyticsWriter,
    private readonly topics: TopicNames,
    options: Partial<SinkOptions> = {},
  ) {
    this.options = { ...DEFAULT_SINK_OPTIONS, ...options };
    this.consumer = kafka.consumer({
      kafkaJS: { groupId: this.options.groupId, fromBeginning: true, autoCommit: false },
      'isolation.level': 'read_committed',
      'js.consumer.max.batch.size': this.options.maxBatchSize,
      'fetch.wait.max.ms': 10,
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 3_000,
      // A rebalance may hand a partition to another instance: forget what was known of it.
      rebalance_cb: () => void this.pending.clear(),
    });
    const metrics = this.options.metrics;
    this.instruments = {
      rows: metrics.counter({ name: 'shopstream_sink_rows_total', help: 'Rows inserted into ClickHouse', labelNames: ['table'] }),
      batch: metrics.histogram({ name: 'shopstream_sink_batch_size', help: 'Records per ClickHouse insert', buckets: [1, 10, 100, 1_000, 5_000, 20_000] }),
      insertLatency: metrics.histogram({ name: 'shopstream_sink_insert_latency_seconds', help: 'Duration of one ClickHouse insert', buckets: LATENCY_BUCKETS }),
      endToEnd: metrics.histogram({ name: 'shopstream_end_to_end_latency_seconds', help: 'Outbox commit to queryable in ClickHouse', buckets: LATENCY_BUCKETS }),
    };
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topics.ordersEnriched, this.topics.orderChanges] });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: async ({ batch }) => {
        try {
          await this.handle(batch.topic, batch.partition, batch.messages);
        } catch (error) {
          this.pending.delete(`${batch.topic}:${batch.partition}`);
          this.options.logger.warn('load failed; the range will be read again', { topic: batch.topic, partition: batch.partition, error: errorMessage(error) });
          throw error;
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async handle(topic: string, partition: number, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const key = `${topic}:${partition}`;
    if (!this.pending.has(key)) this.pending.set(key, await this.pendingRange(topic, partition));
    let rest = messages;
    const range = this.pending.get(key);
    if (range) {
      // Rebuild the range recorded before a crash, exactly, across as many fetches as it takes.
      range.messages.push(...rest.filter((m) => BigInt(m.offset) <= range.last));
      rest = rest.filter((m) => BigInt(m.offset) > range.last);
      const lastRead = BigInt(messages[messages.length - 1]!.offset);
      if (lastRead < range.last) return;
      await this.load(topic, partition, range.messages, false);
      this.pending.set(key, null);
    }
    for (let i = 0; i < rest.length; i += this.options.maxBatchSize) await this.load(topic, partition, rest.slice(i, i + this.options.maxBatchSize), true);
  }

  /** The range recorded in the committed metadata when the last run stopped inside a load. */
  private async pendingRange(topic: string, partition: number): Promise<{ first: bigint; last: bigint; messages: Message[] } | null> {
    const [committed] = await this.consumer.committed([{ topic, partition }]);
    const match = PENDING.exec(committed?.metadata ?? '');
    // @confluentinc/kafka-javascript reports a committed offset of 0 as null (a falsy check);
    // "no committed offset" comes back as -1001, so null here can only be 0.
    const offset = BigInt(committed?.offset ?? '0');
    if (!match || offset !== BigInt(match[1]!)) return null;
    this.options.logger.info('rebuilding the range a previous run was loading', { topic, partition, first: match[1], last: match[2] });
    return { first: BigInt(match[1]!), last: BigInt(match[2]!), messages: [] };
  }

  private async load(topic: string, partition: number, messages: Message[], record: boolean): Promise<void> {
    if (messages.length === 0) return;
    const first = messages[0]!.offset;
    const last = messages[messages.length - 1]!.offset;
    if (record) await this.consumer.commitOffsets([{ topic, partition, offset: first, metadata: `shopstream-sink pending ${first} ${last}` }]);
    const token = `${topic}-${partition}-${first}-${last}`;
    const records = await Promise.all(messages.map(async (message) => (await this.registry.decode(message.value)).value));
    const started = performance.now();
    const table = topic === this.topics.ordersEnriched ? 'orders' : 'order_changes';
    if (table === 'orders') await this.writer.writeOrders(records as unknown as OrderEnriched[], token);
    else await this.writer.writeChanges(records as unknown as OrderChange[], token);
    await this.consumer.commitOffsets([{ topic, partition, offset: String(BigInt(last) + 1n), metadata: '' }]);
    const now = Date.now() * 1000;
    this.instruments.insertLatency.observe((performance.now() - started) / 1000);
    this.instruments.rows.inc({ table }, records.length);
    this.instruments.batch.observe(records.length);
    for (const r of records) this.instruments.endToEnd.observe(Math.max(0, now - Number(r.committed_at)) / 1e6);
  }
}
