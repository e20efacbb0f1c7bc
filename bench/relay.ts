import { randomUUID } from 'node:crypto';
import { waitFor } from '../core/retry.js';
import { createKafka } from '../kafka/client.js';
import { KafkaOutboxPublisher } from '../kafka/outbox-publisher.js';
import { baseTopicName, ensureTopics, TOPIC_KEYS, topicNames, topicSpecs } from '../kafka/topics.js';
import { mysqlOutboxStore } from '../mysql/outbox-store.js';
import { createMysqlPool } from '../mysql/pool.js';
import { AvroRegistry } from '../registry/avro-registry.js';
import type { EventPublisher, OutboxRow } from '../relay/ports.js';
import { OutboxRelay } from '../relay/relay.js';
import { benchEnv, memorySampler, percentile, round } from './common.js';

/**
 * The relay alone: drain rate of a pre-filled outbox (`events` rows over events/10 aggregates),
 * then idle publish latency (commit → Kafka acknowledgement) of single events, woken in process
 * and, for comparison, found by the poll fallback.
 */
export async function relayBench(options: { events: number; idleSamples: number; batchSize: number; concurrency: number }) {
  const env = await benchEnv();
  const pool = createMysqlPool({ url: env.databaseUrl, connectionLimit: 4 });
  const topics = topicNames(env.topicPrefix);
  const admin = createKafka(env.entry.kafka).admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(topics, { partitions: 6, replicationFactor: 1 })).finally(() => admin.disconnect());
  const prefixed = new Map(TOPIC_KEYS.map((key) => [baseTopicName(key), topics[key]]));
  const registry = new AvroRegistry({ url: env.entry.registryUrl, topicFor: (base) => prefixed.get(base)! });
  await registry.registerAll();
  const memory = memorySampler();
  try {
    console.log(`relay: filling the outbox with ${options.events.toLocaleString()} events`);
    const aggregateCount = Math.max(1, Math.floor(options.events / 10));
    const aggregates = Array.from({ length: aggregateCount }, () => randomUUID());
    const fillStarted = performance.now();
    const changedAt = Date.now() * 1000;
    for (let start = 0; start < options.events; start += 5_000) {
      const rows = [];
      for (let i = start; i < Math.min(options.events, start + 5_000); i++) {
        const aggregateId = aggregates[i % aggregateCount]!;
        const version = Math.floor(i / aggregateCount) + 1;
        rows.push([randomUUID(), 'order', aggregateId, version, 'OrderStatusChanged', JSON.stringify({ orderId: aggregateId, version, previousStatus: 'PAID', status: 'SHIPPED', paymentMethod: null, changedAt })]);
      }
      await pool.query('INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload) VALUES ?', [rows]);
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    const kafkaPublisher = new KafkaOutboxPublisher(createKafka(env.entry.kafka), registry, { topics, lingerMs: 5, producerConfig: {} });
    const acked = new Map<string, number>();
    const publisher: EventPublisher = {
      async publish(rows: OutboxRow[]) {
        const outcome = await kafkaPublisher.publish(rows);
        const now = performance.now();
        for (const id of outcome.published) acked.set(id, now);
        return outcome;
      },
      close: () => kafkaPublisher.close(),
    };
    const store = mysqlOutboxStore(pool);
    const relay = new OutboxRelay(store, publisher, { batchSize: options.batchSize, concurrency: options.concurrency });
    const drainStarted = performance.now();
    relay.start();
    await waitFor(async () => ((await store.stats()).backlog === 0 ? true : undefined), { timeoutMs: 30 * 60_000, intervalMs: 200, describe: 'the drain' });
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    console.log(`relay: drained ${options.events.toLocaleString()} events in ${drainSeconds.toFixed(1)} s`);

    const idle = async (signal: boolean) => {
      const latencies: number[] = [];
      for (let i = 0; i < options.idleSamples; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60)); // let the relay go idle
        const aggregateId = randomUUID();
        const committedAt = performance.now();
        const [result] = (await pool.query('INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload) VALUES (?, ?, ?, ?, ?, ?)', [
          randomUUID(),
          'order',
          aggregateId,
          1,
          'OrderStatusChanged',
          JSON.stringify({ orderId: aggregateId, version: 1, previousStatus: 'PAID', status: 'SHIPPED', paymentMethod: null, changedAt }),
        ])) as unknown as [{ insertId: number }];
        if (signal) relay.notify();
        const id = String(result.insertId);
        await waitFor(async () => (acked.has(id) ? true : undefined), { timeoutMs: 10_000, intervalMs: 1, describe: 'an idle event' });
        latencies.push(acked.get(id)! - committedAt);
      }
      latencies.sort((a, b) => a - b);
      return { p50: round(percentile(latencies, 50), 1), p99: round(percentile(latencies, 99), 1) };
    };
    const woken = await idle(true);
    const polled = await idle(false);
    await relay.stop();
    await publisher.close();
    return {
      events: options.events,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      fillSeconds: round(fillSeconds),
      drainSeconds: round(drainSeconds),
      drainEventsPerSecond: round(options.events / drainSeconds, 0),
      idlePublishLatencyMs: { inProcessWake: woken, pollFallback: polled },
      peakRssMiB: memory.stop(),
    };
  } finally {
    await pool.end();
    await env.cleanup();
  }
}
