import { ConfigError, DependencyError, errorMessage } from '../core/errors.js';
import type { AggregateType } from '../orders/events.js';
import type { AvroRegistry } from '../registry/avro-registry.js';
import type { EventPublisher, OutboxRow, PublishOutcome } from '../relay/ports.js';
import type { Kafka, Producer } from './client.js';
import type { TopicNames } from './topics.js';

export interface OutboxPublisherOptions {
  topics: TopicNames;
  /** librdkafka linger: how long to wait to fill a batch. Default 2 ms (latency first). */
  lingerMs: number;
  /** How long a send may wait for acknowledgement before the batch counts as failed (the
   *  claim's row locks are held meanwhile). Default 15,000 ms. */
  sendTimeoutMs?: number;
  /** Extra producer settings; checked against ordering and durability before use. */
  producerConfig: Record<string, string | number | boolean>;
}

const AGGREGATE_TOPIC: Record<AggregateType, keyof TopicNames> = {
  order: 'orders',
  payment: 'payments',
  user: 'users',
  product: 'products',
  inventory: 'inventory',
  canary: 'canary',
};

/**
 * Refuses producer settings that could reorder or lose events: the relay relies on an idempotent
 * producer (no duplicates from internal retries, order kept per partition) with acks from all
 * in-sync replicas.
 */
export function assertSafeProducerConfig(config: Record<string, string | number | boolean>): void {
  const problems: string[] = [];
  if (config['enable.idempotence'] !== undefined && String(config['enable.idempotence']) !== 'true') problems.push('enable.idempotence must be true');
  if (config['acks'] !== undefined && !['all', '-1'].includes(String(config['acks']))) problems.push('acks must be all');
  const inFlight = config['max.in.flight.requests.per.connection'];
  if (inFlight !== undefined && Number(inFlight) > 5) problems.push('max.in.flight.requests.per.connection must be at most 5');
  if (problems.length > 0) throw new ConfigError(`unsafe relay producer settings: ${problems.join('; ')}`);
}

/**
 * Sends outbox rows as Avro records (registered schema ids, Confluent framing) to the topic of
 * their aggregate, keyed by aggregate id, with headers event_id, event_type, committed_at
 * (outbox insert time, epoch µs), schema_subject and aggregate_version.
 */
export class KafkaOutboxPublisher implements EventPublisher {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly registry: AvroRegistry,
    private readonly options: OutboxPublisherOptions,
  ) {
    assertSafeProducerConfig(options.producerConfig);
    this.producer = kafka.producer({
      'linger.ms': options.lingerMs,
      'compression.type': 'lz4',
      'message.timeout.ms': options.sendTimeoutMs ?? 15_000,
      ...options.producerConfig,
      'enable.idempotence': true,
      acks: -1,
      'max.in.flight.requests.per.connection': 5,
    });
  }

  async publish(rows: OutboxRow[]): Promise<PublishOutcome> {
    this.connected ??= this.producer.connect().catch((error) => {
      this.connected = undefined;
      throw new DependencyError('kafka', `cannot connect to Kafka: ${errorMessage(error)}`, { cause: error });
    });
    await this.connected;
    const failed: PublishOutcome['failed'] = [];
    const blocked = new Set<string>();
    const byTopic = new Map<string, { ids: string[]; messages: Parameters<Producer['send']>[0]['messages'] }>();
    for (const row of rows) {
      const aggregate = `${row.aggregateType}:${row.aggregateId}`;
      if (blocked.has(aggregate)) continue;
      const topic = this.options.topics[AGGREGATE_TOPIC[row.aggregateType]];
      let encoded;
      try {
        encoded = await this.registry.encode(row.eventType, row.payload);
      } catch (error) {
        if ((error as { retriable?: boolean }).retriable) throw error;
        failed.push({ id: row.id, error: errorMessage(error) });
        blocked.add(aggregate);
        continue;
      }
      const entry = byTopic.get(topic) ?? { ids: [], messages: [] };
      entry.ids.push(row.id);
      entry.messages.push({
        key: row.aggregateId,
        value: encoded.value,
        headers: {
          event_id: row.eventId,
          event_type: row.eventType,
          committed_at: String(row.createdAt),
          schema_subject: encoded.schema.subject,
          aggregate_version: String(row.aggregateVersion),
        },
      });
      byTopic.set(topic, entry);
    }
    // One send per topic, all awaited together: acknowledged means durable on all ISRs.
    try {
      await Promise.all([...byTopic].map(([topic, entry]) => this.producer.send({ topic, messages: entry.messages })));
    } catch (error) {
      throw new DependencyError('kafka', `publishing to Kafka failed: ${errorMessage(error)}`, { cause: error });
    }
    return { published: [...byTopic.values()].flatMap((entry) => entry.ids), failed };
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
