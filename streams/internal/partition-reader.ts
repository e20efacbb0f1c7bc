import rdkafka, { type KafkaConsumer as RdKafkaConsumer, type Message } from '@confluentinc/kafka-javascript';

const { KafkaConsumer } = rdkafka; // CommonJS package: named exports only through the default

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** Receives records one at a time, in partition order; the next waits until a returned promise settles. */
export type RecordSink = (record: { topic: string; partition: number; offset: number; key: string | null; value: Buffer | null }) => void | Promise<void>;

/**
 * Reads chosen partitions from the beginning outside any consumer group, committed data only
 * (read_committed: aborted transactions are skipped). Restores state stores from changelogs and
 * loads global stores. "The end" is where librdkafka reports partition EOF, which accounts for
 * transaction markers (a high watermark alone would not).
 */
export class PartitionReader {
  private readonly consumer: RdKafkaConsumer;
  private readonly atEnd = new Set<string>();
  /** Per partition: every record before this offset has been handed to the sink (and settled). */
  private readonly applied = new Map<string, number>();
  /** Ends reached during the consume call being applied: they count once its records are applied. */
  private reached: { key: string; offset: number }[] = [];
  private following = false;
  private loop: Promise<void> | undefined;

  constructor(brokers: string[], clientId: string) {
    this.consumer = new KafkaConsumer(
      {
        'metadata.broker.list': brokers.join(','),
        'client.id': clientId,
        'group.id': `${clientId}-reader`, // required by librdkafka; no offsets are committed
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 50,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.setDefaultConsumeTimeout(100);
    this.consumer.on('partition.eof', (eof: { topic: string; partition: number; offset: number }) => {
      this.atEnd.add(`${eof.topic}:${eof.partition}`);
      this.reached.push({ key: `${eof.topic}:${eof.partition}`, offset: eof.offset });
    });
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => this.consumer.connect({ timeout: 30_000 }, (error) => (error ? reject(error) : resolve())));
  }

  /** Reads `partitions` from offset 0 to their end, handing every record to `sink`. */
  async readToEnd(partitions: TopicPartitionRef[], sink: RecordSink): Promise<void> {
    if (partitions.length === 0) return;
    for (const p of partitions) this.atEnd.delete(`${p.topic}:${p.partition}`);
    this.consumer.assign(partitions.map((p) => ({ ...p, offset: 0 })));
    while (!partitions.every((p) => this.atEnd.has(`${p.topic}:${p.partition}`))) await this.consumeOnce(sink);
    this.consumer.unassign();
  }

  /**
   * Reads `partitions` to their end, then keeps applying new records in the background until
   * `close`. Resolves once the end was reached (the caller's view is then current).
   */
  async follow(partitions: TopicPartitionRef[], sink: RecordSink): Promise<void> {
    for (const p of partitions) this.atEnd.delete(`${p.topic}:${p.partition}`);
    this.consumer.assign(partitions.map((p) => ({ ...p, offset: 0 })));
    while (!partitions.every((p) => this.atEnd.has(`${p.topic}:${p.partition}`))) await this.consumeOnce(sink);
    this.following = true;
    this.loop = (async () => {
      while (this.following) await this.consumeOnce(sink).catch(() => new Promise((resolve) => setTimeout(resolve, 500)));
    })();
  }

  /**
   * While following: whether every record before `offsets` (per partition, e.g. the last stable
   * offsets fetched just now) has been applied. Positions only grow, and an end the reader met
   * counts only after the records read with it were applied.
   */
  caughtUp(offsets: { topic: string; partition: number; offset: number }[]): boolean {
    return offsets.every(({ topic, partition, offset }) => (this.applied.get(`${topic}:${partition}`) ?? 0) >= offset);
  }

  async close(): Promise<void> {
    this.following = false;
    await this.loop;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  private async consumeOnce(sink: RecordSink): Promise<void> {
    const messages = await new Promise<Message[]>((resolve, reject) =>
      this.consumer.consume(1_000, (error, batch: Message[]) => (error ? reject(error) : resolve(batch))),
    );
    const reached = this.reached;
    this.reached = [];
    for (const message of messages) {
      await sink({
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        key: message.key === undefined || message.key === null ? null : message.key.toString(),
        value: (message.value as Buffer | null) ?? null,
      });
      this.advance(`${message.topic}:${message.partition}`, message.offset + 1);
    }
    for (const { key, offset } of reached) this.advance(key, offset);
  }

  private advance(key: string, offset: number): void {
    if (offset > (this.applied.get(key) ?? 0)) this.applied.set(key, offset);
  }
}
