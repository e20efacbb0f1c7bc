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
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_SINK_OPTIONS: SinkOptions = {
  groupId: 'shopstream-sink',
  maxBatchSize: 20_000,
  metrics: noopMetrics,
  logger: createLogger('sink'),
};

/**
 * Loads shop.orders-enriched.v1 and shop.order-changes.v1 into ClickHouse. Each batch is one
 * partition's contiguous offset range, inserted with the deduplication token
 * `<topic>-<partition>-<first>-<last>`; offsets are committed only after ClickHouse accepted
 * the insert. A batch re-sent with the same range and token inserts nothing twice.
 */
export class ClickHouseSink {
  private readonly options: SinkOptions;
  private readonly consumer: Consumer;
  private readonly rows;
  private readonly insertLatency;
  private readonly endToEnd;

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
      'js.consumer.max.batch.size': this.options.maxBatchSize,
      'fetch.wait.max.ms': 10,
    });
    const metrics = this.options.metrics;
    this.rows = metrics.counter({ name: 'shopstream_sink_rows_total', help: 'Rows inserted into ClickHouse', labelNames: ['table'] });
    this.insertLatency = metrics.histogram({
      name: 'shopstream_sink_insert_latency_seconds',
      help: 'Duration of one ClickHouse insert',
      buckets: LATENCY_BUCKETS,
    });
    this.endToEnd = metrics.histogram({
      name: 'shopstream_end_to_end_latency_seconds',
      help: 'Outbox commit to queryable in ClickHouse',
      buckets: LATENCY_BUCKETS,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topics.ordersEnriched, this.topics.orderChanges] });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        if (batch.messages.length === 0) return;
        const first = batch.messages[0]!.offset;
        const last = batch.messages[batch.messages.length - 1]!.offset;
        const token = `${batch.topic}-${batch.partition}-${first}-${last}`;
        try {
          await this.load(batch.topic, batch.messages.map((m) => m.value), token);
        } catch (error) {
          this.options.logger.warn('insert failed; the batch will be retried', { token, error: errorMessage(error) });
          throw error;
        }
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async load(topic: string, values: (Buffer | null)[], token: string): Promise<void> {
    const records = await Promise.all(values.map(async (value) => (await this.registry.decode(value)).value));
    const started = performance.now();
    if (topic === this.topics.ordersEnriched) {
      await this.writer.writeOrders(records as unknown as OrderEnriched[], token);
      this.rows.inc({ table: 'orders' }, records.length);
    } else {
      await this.writer.writeChanges(records as unknown as OrderChange[], token);
      this.rows.inc({ table: 'order_changes' }, records.length);
    }
    const now = Date.now() * 1000;
    this.insertLatency.observe((performance.now() - started) / 1000);
    for (const record of records) this.endToEnd.observe(Math.max(0, now - Number(record.committed_at)) / 1e6);
  }
}
