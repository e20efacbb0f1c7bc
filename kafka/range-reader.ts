import rdkafka, { type KafkaConsumer as RdKafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { PartitionEnds, PartitionRange, RangeSource, SourceRecord } from '../replay/ports.js';
import type { Admin, Kafka, KafkaOptions } from './client.js';

const { KafkaConsumer } = rdkafka; // CommonJS package: named exports only through the default

/**
 * A RangeSource on librdkafka: partitions are assigned (never subscribed, nothing committed, no
 * group joined), read_committed, so a range holds what a consumer of the live groups met there.
 * One `read` at a time.
 */
export class KafkaRangeSource implements RangeSource {
  private readonly admin: Admin;
  private readonly consumer: RdKafkaConsumer;

  constructor(kafka: Kafka, options: KafkaOptions) {
    this.admin = kafka.admin();
    this.consumer = new KafkaConsumer(
      {
        'metadata.broker.list': options.brokers.join(','),
        'client.id': `${options.clientId}-replay`,
        'group.id': `${options.clientId}-replay-reader`, // required by librdkafka; never joined, nothing committed
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 50,
      },
      { 'auto.offset.reset': 'earliest' },
    );
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await new Promise<void>((resolve, reject) => this.consumer.connect({ timeout: 30_000 }, (error) => (error ? reject(error) : resolve())));
  }

  async ends(topic: string): Promise<PartitionEnds[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
    return offsets.map((o) => ({ partition: o.partition, logStart: BigInt(o.low), lastStable: BigInt(o.offset) })).sort((a, b) => a.partition - b.partition);
  }

  async offsetsForTime(topic: string, timestampMs: number): Promise<Map<number, bigint>> {
    const offsets = await this.admin.fetchTopicOffsetsByTimestamp(topic, timestampMs, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
    return new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
  }

  async read(range: PartitionRange, maxBatch: number, onRecords: (records: SourceRecord[]) => Promise<void>, signal?: AbortSignal): Promise<void> {
    if (range.from >= range.to) return;
    let end = false;
    const onEnd = (eof: { topic: string; partition: number; offset: number }) => {
      if (eof.topic === range.topic && eof.partition === range.partition && BigInt(eof.offset) >= range.to) end = true;
    };
    this.consumer.on('partition.eof', onEnd);
    this.consumer.assign([{ topic: range.topic, partition: range.partition, offset: Number(range.from) }]);
    try {
      while (!end) {
        signal?.throwIfAborted();
        const messages = await new Promise<Message[]>((resolve, reject) => this.consumer.consume(maxBatch, (error, batch) => (error ? reject(error) : resolve(batch))));
        const records: SourceRecord[] = [];
        for (const message of messages) {
          const offset = BigInt(message.offset);
          if (message.topic !== range.topic || message.partition !== range.partition || offset < range.from) continue;
          if (offset >= range.to) {
            end = true;
            break;
          }
          records.push({ offset, value: message.value ?? null });
        }
        if (records.length > 0) await onRecords(records);
        // The last committed record of the range may sit before markers: its successor or the end says so.
        if (records.length > 0 && records[records.length - 1]!.offset === range.to - 1n) end = true;
      }
    } finally {
      this.consumer.unassign();
      this.consumer.removeListener('partition.eof', onEnd);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
    await this.admin.disconnect();
  }
}
