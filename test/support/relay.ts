import { randomUUID } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import type { Logger } from '../../core/log.js';
import { createKafka, type KafkaOptions } from '../../kafka/client.js';
import { KafkaOutboxPublisher } from '../../kafka/outbox-publisher.js';
import { baseTopicName, ensureTopics, TOPIC_KEYS, topicNames, topicSpecs, type TopicNames } from '../../kafka/topics.js';
import { mysqlOutboxStore } from '../../mysql/outbox-store.js';
import { AvroRegistry } from '../../registry/avro-registry.js';
import { OutboxRelay, type RelayOptions } from '../../relay/relay.js';
import { entry, uniqueId } from './env.js';

export interface TestEvent {
  aggregateId: string;
  version: number;
  /** A payload the schema cannot encode. */
  poison?: boolean;
}

/** Outbox rows of OrderStatusChanged events, inserted directly (multi-row INSERTs). */
export async function insertEvents(pool: Pool, events: TestEvent[]): Promise<string[]> {
  const eventIds: string[] = [];
  for (let i = 0; i < events.length; i += 1_000) {
    const chunk = events.slice(i, i + 1_000);
    const values = chunk.map((event) => {
      const eventId = randomUUID();
      eventIds.push(eventId);
      const payload = event.poison
        ? { orderId: event.aggregateId, version: event.version }
        : { orderId: event.aggregateId, version: event.version, previousStatus: 'PAID', status: 'SHIPPED', paymentMethod: null, changedAt: Date.now() * 1000 };
      return [eventId, 'order', event.aggregateId, event.version, 'OrderStatusChanged', JSON.stringify(payload)];
    });
    await pool.query('INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload) VALUES ?', [values]);
  }
  return eventIds;
}

export function aggregates(count: number): string[] {
  return Array.from({ length: count }, () => randomUUID());
}

export interface TestTopics {
  prefix: string;
  topics: TopicNames;
  registry: AvroRegistry;
}

/** Topics with a prefix of the test's own, created, with a registry bound to them. */
export async function testTopics(kafka: KafkaOptions = entry.kafka, partitions = 3): Promise<TestTopics> {
  const prefix = `t${uniqueId()}.`;
  const topics = topicNames(prefix);
  const admin = createKafka(kafka).admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(topics, { partitions, replicationFactor: 1 })).finally(() => admin.disconnect());
  const prefixed = new Map(TOPIC_KEYS.map((key) => [baseTopicName(key), topics[key]]));
  const registry = new AvroRegistry({ url: entry.registryUrl, topicFor: (base) => prefixed.get(base)! });
  await registry.registerAll();
  return { prefix, topics, registry };
}

/**
 * A relay over `pool` publishing to the test's topics; `published` records what it published,
 * `sends` how many times each event was handed to Kafka, failed sends included (a send that timed
 * out may have reached the broker; a claim whose transaction is run again after a deadlock sends
 * its rows again): Kafka holds an event at most that many times. `uncommitted`: the events of
 * claims whose transaction did not commit after sending, which another relay may send as well.
 */
export function testRelay(pool: Pool, t: TestTopics, options: Partial<RelayOptions> = {}, kafka: KafkaOptions = entry.kafka, producer: { debug?: string; log?: Logger } = {}) {
  const client = createKafka(kafka, { logger: producer.log, verbose: producer.debug !== undefined });
  const producerConfig: Record<string, string> = producer.debug === undefined ? {} : { debug: producer.debug };
  const publisher = new KafkaOutboxPublisher(client, t.registry, { topics: t.topics, lingerMs: 2, producerConfig, sendTimeoutMs: 5_000 });
  const published = new Set<string>();
  const sends = new Map<string, number>();
  const recording = {
    publish: async (rows: Parameters<typeof publisher.publish>[0]) => {
      for (const row of rows) sends.set(row.eventId, (sends.get(row.eventId) ?? 0) + 1);
      const outcome = await publisher.publish(rows);
      const byId = new Map(rows.map((row) => [row.id, row.eventId]));
      for (const id of outcome.published) published.add(byId.get(id)!);
      return outcome;
    },
    close: () => publisher.close(),
  };
  // A claim whose transaction did not commit after its rows were sent (run again after a
  // deadlock, or failed): its rows stay unpublished and any relay sends them again.
  const uncommitted = new Set<string>();
  const base = mysqlOutboxStore(pool);
  const store: typeof base = {
    ...base,
    claim: async (limit, decide) => {
      const attempts: { eventId: string }[][] = [];
      try {
        const claimed = await base.claim(limit, (rows) => {
          attempts.push(rows);
          return decide(rows);
        });
        // The rows of a claim come from its last attempt; an attempt run again after a conflict
        // may find nothing claimable (another claim took the rows) and not decide at all.
        for (const rows of claimed > 0 ? attempts.slice(0, -1) : attempts) for (const row of rows) uncommitted.add(row.eventId);
        return claimed;
      } catch (error) {
        for (const rows of attempts) for (const row of rows) uncommitted.add(row.eventId);
        throw error;
      }
    },
  };
  const relay = new OutboxRelay(store, recording, options);
  return {
    relay,
    published,
    sends,
    uncommitted,
    async close() {
      await relay.stop();
      await publisher.close();
    },
  };
}

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string;
  eventId: string;
  version: number;
  name: string;
  /** The decoded record. */
  value: Record<string, unknown>;
}

/** Reads a topic from the beginning until `done(records)` holds (or the timeout passes). */
export async function readTopic(
  topic: string,
  registry: AvroRegistry,
  done: (records: ReadRecord[]) => boolean,
  { timeoutMs = 60_000, kafka = entry.kafka }: { timeoutMs?: number; kafka?: KafkaOptions } = {},
): Promise<ReadRecord[]> {
  const consumer = createKafka(kafka).consumer({ kafkaJS: { groupId: `reader-${uniqueId()}`, fromBeginning: true }, 'js.consumer.max.batch.size': 5_000 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const decoded = await registry.decode(message.value);
        const eventId = message.headers?.event_id;
        records.push({
          partition: batch.partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          eventId: Buffer.isBuffer(eventId) ? eventId.toString() : String(eventId),
          version: Number(decoded.value.version),
          name: decoded.name,
          value: decoded.value,
        });
      }
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (!done(records) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await consumer.disconnect();
  return records;
}

/** The first copy of each event, in log order (repeats of a re-sent batch share its event_id). */
export function firstCopies(records: ReadRecord[]): ReadRecord[] {
  const seen = new Set<string>();
  return [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset).filter((r) => !seen.has(r.eventId) && seen.add(r.eventId));
}

/** Per aggregate (key), the versions in the order Kafka holds them (one partition per key). */
export function versionsByKey(records: ReadRecord[]): Map<string, number[]> {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const byKey = new Map<string, number[]>();
  for (const record of sorted) byKey.set(record.key, [...(byKey.get(record.key) ?? []), record.version]);
  return byKey;
}

export async function unpublishedCount(pool: Pool): Promise<number> {
  const [[row]] = (await pool.query('SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL')) as unknown as [[{ n: number }]];
  return Number(row!.n);
}
