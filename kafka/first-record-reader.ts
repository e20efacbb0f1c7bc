import rdkafka, { type KafkaConsumer as RdKafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import type { FirstRecordAnswer, RecordRequest } from '../monitoring/lag-source.js';
import { recordKey } from '../monitoring/lag-source.js';

const { KafkaConsumer } = rdkafka; // CommonJS package: named exports only through the default

export interface FirstRecordReaderOptions {
  brokers: string[];
  clientId: string;
  /** How long one `read` waits for all its partitions. Default 5,000 ms. */
  timeoutMs: number;
}

/**
 * Reads the first committed record at or after given offsets, outside any consumer group
 * (assign, never subscribe; nothing is committed) and read_committed, as a consumer of the group
 * would meet it: transaction markers and aborted records are skipped. A partition whose end
 * (librdkafka's partition EOF, at the last stable offset) comes first answers `end`.
 *
 * One `read` at a time (calls queue). Only the first record of each partition is kept; little is
 * prefetched beyond it.
 */
export class FirstRecordReader {
  private readonly consumer: RdKafkaConsumer;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FirstRecordReaderOptions) {
    this.consumer = new KafkaConsumer(
      {
        'metadata.broker.list': options.brokers.join(','),
        'client.id': options.clientId,
        'group.id': `${options.clientId}-lag-reader`, // required by librdkafka; never joined, nothing committed
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 50,
        'fetch.message.max.bytes': 64 * 1024,
        // queued.min.messages stays at its default: a low one postpones fetches by
        // fetch.queue.backoff.ms (1 s) once a partition has a record queued, and every read waits that long.
        'queued.max.messages.kbytes': 1024,
      },
      { 'auto.offset.reset': 'earliest' }, // an offset below the log start: the oldest record left
    );
    this.consumer.setDefaultConsumeTimeout(100);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => this.consumer.connect({ timeout: 30_000 }, (error) => (error ? reject(error) : resolve())));
  }

  /** Answers keyed by `recordKey`; a request left out was not answered within `timeoutMs`. */
  read(requests: RecordRequest[]): Promise<Map<string, FirstRecordAnswer>> {
    const next = this.queue.then(async () => {
      // One assignment holds one offset per partition: several offsets of a partition take rounds.
      const answers = new Map<string, FirstRecordAnswer>();
      let pending = [...new Map(requests.map((r) => [recordKey(r), r])).values()];
      while (pending.length > 0) {
        const round = new Map<string, RecordRequest>();
        for (const r of pending) if (!round.has(`${r.topic}:${r.partition}`)) round.set(`${r.topic}:${r.partition}`, r);
        for (const [key, answer] of await this.readNow([...round.values()])) answers.set(key, answer);
        pending = pending.filter((r) => round.get(`${r.topic}:${r.partition}`) !== r);
      }
      return answers;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  /** `requests` name each partition once. */
  private async readNow(requests: RecordRequest[]): Promise<Map<string, FirstRecordAnswer>> {
    const answers = new Map<string, FirstRecordAnswer>();
    if (requests.length === 0) return answers;
    const wanted = new Map(requests.map((r) => [`${r.topic}:${r.partition}`, r]));
    const settled = new Set<string>();
    // Records and ends arrive as events in log order (an end after the records before it).
    const onData = (message: Message) => {
      const key = `${message.topic}:${message.partition}`;
      const request = wanted.get(key);
      if (!request || settled.has(key) || BigInt(message.offset) < request.offset) return;
      settled.add(key);
      // A record without a timestamp (-1) has no age: left unanswered rather than given a false one.
      if (message.timestamp !== undefined && message.timestamp >= 0) answers.set(recordKey(request), { offset: BigInt(message.offset), timestampMs: message.timestamp });
    };
    const onEnd = (eof: { topic: string; partition: number; offset: number }) => {
      const key = `${eof.topic}:${eof.partition}`;
      const request = wanted.get(key);
      if (!request || settled.has(key) || BigInt(eof.offset) < request.offset) return;
      settled.add(key);
      answers.set(recordKey(request), 'end');
    };
    this.consumer.on('data', onData);
    this.consumer.on('partition.eof', onEnd);
    try {
      this.consumer.assign([...wanted.values()].map((r) => ({ topic: r.topic, partition: r.partition, offset: Number(r.offset) })));
      const deadline = Date.now() + this.options.timeoutMs;
      while (settled.size < wanted.size && Date.now() < deadline) {
        await new Promise<void>((resolve, reject) => this.consumer.consume(100, (error) => (error ? reject(error) : resolve())));
      }
      return answers;
    } finally {
      this.consumer.unassign();
      this.consumer.removeListener('data', onData);
      this.consumer.removeListener('partition.eof', onEnd);
    }
  }
}
