import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { waitFor } from '../../core/retry.js';
import { createKafka, type Admin, type Consumer, type Kafka } from '../../kafka/client.js';
import { KafkaLagSource } from '../../kafka/lag-source.js';
import { PrometheusMetrics } from '../../metrics/prometheus.js';
import { LagCollector, type GroupReport, type LagCollectorOptions } from '../../monitoring/lag-collector.js';
import type { LagSource, RecordRequest } from '../../monitoring/lag-source.js';
import { entry, uniqueId } from '../support/env.js';

const silent = createLogger('consumer-lag-test', { destination: { write: () => undefined } });

/**
 * Lag read by the collector from the real broker, at chosen points: records produced with known
 * timestamps, offsets committed by real consumer groups at chosen offsets.
 */
describe('consumer lag (real Kafka)', () => {
  const id = uniqueId();
  const plain = `t${id}.lag-plain`;
  const txn = `t${id}.lag-txn`;
  const advancing = `t${id}.lag-advancing`;
  const group = (name: string) => `t${id}-${name}`;
  const hourAgo = Date.now() - 3_600_000;
  /** Timestamps of the 10 records of `plain` partition 0: one hour ago, then a minute apart. */
  const stamps = Array.from({ length: 10 }, (_, i) => hourAgo + i * 60_000);
  let kafka: Kafka;
  let admin: Admin;
  let source: KafkaLagSource;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = createKafka({ ...entry.kafka, clientId: `t${id}` });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: plain, numPartitions: 2 }, { topic: txn, numPartitions: 1 }, { topic: advancing, numPartitions: 1 }] });
    const producer = kafka.producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    await producer.send({ topic: plain, messages: stamps.map((ts, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0, timestamp: String(ts) })) });
    await producer.disconnect();
    // Two committed transactions, then an aborted one: only markers and aborted records after offset 5.
    const transactional = kafka.producer({ 'transactional.id': `t${id}-lag-producer`, 'enable.idempotence': true, acks: -1 });
    await transactional.connect();
    for (const [values, commit] of [[['a', 'b', 'c'], true], [['d', 'e'], true], [['x', 'y'], false]] as const) {
      const t = await transactional.transaction();
      await t.send({ topic: txn, messages: values.map((value) => ({ value })) });
      await (commit ? t.commit() : t.abort());
    }
    await transactional.disconnect();
    source = new KafkaLagSource(kafka, { ...entry.kafka, clientId: `t${id}` });
    await source.connect();
  });

  afterAll(async () => {
    for (const consumer of consumers) await consumer.disconnect().catch(() => undefined);
    await source?.close();
    await admin?.deleteGroups([...['stopped', 'txn', 'ahead', 'replay', 'status', 'status-gone', 'advancing'].map(group)]).catch(() => undefined);
    await admin?.deleteTopics({ topics: [plain, txn, advancing] }).catch(() => undefined);
    await admin?.disconnect();
  });

  /** A member of `name` subscribed to `topic` that commits only when told (run, nothing auto-committed). */
  async function member(name: string, topic: string, onMessage: (offset: number, consumer: Consumer) => Promise<void> = async () => undefined): Promise<Consumer> {
    const consumer = kafka.consumer({ 'group.id': group(name), 'isolation.level': 'read_committed', 'auto.offset.reset': 'earliest', 'enable.auto.commit': false } as never);
    consumers.push(consumer);
    groupOf.set(consumer, group(name));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    void consumer.run({ eachMessage: async ({ message }) => onMessage(Number(message.offset), consumer) });
    await waitFor(async () => (consumer.assignment().length > 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, describe: `${name} assigned` });
    return consumer;
  }

  /** Commits `offset` on partition 0 and waits until the group coordinator has it (the client only queues commits). */
  async function commit(consumer: Consumer, topic: string, offset: number): Promise<void> {
    await consumer.commitOffsets([{ topic, partition: 0, offset: String(offset) }]);
    const name = groupOf.get(consumer)!;
    await waitFor(
      async () => ((await admin.fetchOffsets({ groupId: name, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)?.offset === String(offset) ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50, describe: `commit of ${offset} by ${name}` },
    );
  }
  const groupOf = new Map<Consumer, string>();

  const collector = (groups: string[], options: Partial<LagCollectorOptions> = {}, lagSource: LagSource = source) =>
    new LagCollector(lagSource, { groups: groups.map(group), logger: silent, ...options });
  const partitionOf = (report: GroupReport | undefined, topic: string, partition: number) => report?.partitions.find((p) => p.topic === topic && p.partition === partition);

  it('a consumer that committed offset 4 of 10 records: 6 messages, and the age of record 4 in seconds', async () => {
    const consumer = await member('stopped', plain);
    await commit(consumer, plain, 4);
    const before = Date.now();
    const [report] = await collector(['stopped']).collect();
    const after = Date.now();
    const p0 = partitionOf(report, plain, 0)!;
    expect(p0).toMatchObject({ committed: 4n, lastStable: 10n, messages: 6n });
    // now − timestamp of record 4 (exact at the collection; the collector's now lies in [before, after]).
    expect(p0.seconds).toBeGreaterThanOrEqual((before - stamps[4]!) / 1000);
    expect(p0.seconds).toBeLessThanOrEqual((after - stamps[4]!) / 1000);
    // Partition 1 is empty and has no commit: counted from the log start, 0.
    expect(partitionOf(report, plain, 1)).toMatchObject({ messages: 0n, seconds: 0 });
  });

  it('a consumer caught up behind transaction markers reads 0, not 1, and never NaN', async () => {
    const seen: number[] = [];
    const consumer = await member('txn', txn, async (offset, c) => {
      seen.push(offset);
      await c.commitOffsets([{ topic: txn, partition: 0, offset: String(offset + 1) }]);
    });
    await waitFor(async () => (seen.length === 5 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, describe: 'txn consumed' });
    expect(seen).toEqual([0, 1, 2, 4, 5]); // 3 and 6 are commit markers, 7 and 8 aborted, 9 the abort marker
    await waitFor(async () => ((await admin.fetchOffsets({ groupId: group('txn') }))[0]?.partitions[0]?.offset === '6' ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, describe: 'commit of 6' });
    const lag = collector(['txn']);
    const [report] = await lag.collect();
    const p = partitionOf(report, txn, 0)!;
    expect(p.lastStable - p.committed).toBe(4n); // what a naive exporter would report
    expect(p).toMatchObject({ committed: 6n, messages: 0n, seconds: 0 });
    expect(report!.status).toBe('OK');
    // Idle and caught up: still 0 at the next collections.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [again] = await lag.collect();
    expect(partitionOf(again, txn, 0)).toMatchObject({ messages: 0n, seconds: 0 });
    void consumer;
  });

  it('is never negative: an offset committed beyond the end reads 0', async () => {
    const consumer = await member('ahead', plain);
    await commit(consumer, plain, 25);
    const [report] = await collector(['ahead']).collect();
    expect(partitionOf(report, plain, 0)).toMatchObject({ committed: 25n, messages: 0n, seconds: 0 });
  });

  it('a replaying consumer (committed far back) reads the real age of its next record, read once while it stays there', async () => {
    const consumer = await member('replay', plain);
    await commit(consumer, plain, 0);
    const reads: RecordRequest[] = [];
    const counting: LagSource = { ...bind(source), firstRecords: (requests) => (reads.push(...requests), source.firstRecords(requests)) };
    const lag = collector(['replay'], {}, counting);
    for (let i = 0; i < 3; i++) {
      const before = Date.now();
      const [report] = await lag.collect();
      const p0 = partitionOf(report, plain, 0)!;
      expect(p0.messages).toBe(10n);
      expect(p0.seconds).toBeGreaterThanOrEqual((before - stamps[0]!) / 1000);
      expect(p0.seconds).toBeLessThanOrEqual((Date.now() - stamps[0]!) / 1000);
    }
    expect(reads.filter((r) => r.topic === plain && r.partition === 0)).toEqual([{ topic: plain, partition: 0, offset: 0n }]);
    // It catches up: 0 in both.
    await commit(consumer, plain, 10);
    const [caughtUp] = await lag.collect();
    expect(partitionOf(caughtUp, plain, 0)).toMatchObject({ messages: 0n, seconds: 0 });
  });

  it('a group that stops committing with lag goes STALL, then STOP; back to OK when it catches up; STOP when its members leave', async () => {
    const consumer = await member('status', plain);
    await commit(consumer, plain, 7);
    const metrics = new PrometheusMetrics();
    const lag = collector(['status'], { metrics, stallAfterMs: 1_000, stopAfterMs: 2_500 });
    const status = async () => (await lag.collect())[0]!.status;
    expect(await status()).toBe('OK');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await status()).toBe('STALL');
    const text = await metrics.render();
    expect(text).toContain(`shopstream_consumergroup_status{group="${group('status')}",status="STALL"} 1`);
    expect(text).toContain(`shopstream_consumergroup_status{group="${group('status')}",status="OK"} 0`);
    expect(text).toContain(`shopstream_consumergroup_lag{group="${group('status')}",topic="${plain}",partition="0"} 3`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await status()).toBe('STOP');
    await commit(consumer, plain, 10);
    await waitFor(async () => ((await status()) === 'OK' ? true : undefined), { timeoutMs: 10_000, intervalMs: 200, describe: 'OK after catching up' });

    // Lag again, and nobody left in the group: STOP at once.
    await commit(consumer, plain, 8);
    await consumer.disconnect();
    await waitFor(async () => ((await status()) === 'STOP' ? true : undefined), { timeoutMs: 10_000, intervalMs: 200, describe: 'STOP without members' });
  });

  it('a group that commits but falls behind reads WARN; OK again once it gains ground', async () => {
    const consumer = await member('advancing', advancing);
    const producer = kafka.producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    const lag = collector(['advancing'], { windowSamples: 3 });
    let committed = 0;
    /** `produced` more records, the group's offset `by` further, then a collection. */
    const step = async (produced: number, by: number) => {
      if (produced > 0) await producer.send({ topic: advancing, messages: Array.from({ length: produced }, () => ({ value: 'x', partition: 0 })) });
      committed += by;
      await commit(consumer, advancing, committed);
      const [report] = await lag.collect();
      return { status: report!.status, messages: partitionOf(report, advancing, 0)!.messages };
    };
    try {
      expect(await step(5, 1)).toEqual({ status: 'OK', messages: 4n });
      expect(await step(3, 1)).toEqual({ status: 'OK', messages: 6n }); // window not full yet
      expect(await step(3, 1)).toEqual({ status: 'WARN', messages: 8n });
      expect(await step(1, 4)).toEqual({ status: 'OK', messages: 5n });
      expect(await step(0, 5)).toEqual({ status: 'OK', messages: 0n });
    } finally {
      await producer.disconnect();
    }
  });

  it('removes the series of a group that is deleted', async () => {
    const consumer = kafka.consumer({ 'group.id': group('status-gone'), 'enable.auto.commit': false } as never);
    groupOf.set(consumer, group('status-gone'));
    await consumer.connect();
    await consumer.subscribe({ topics: [plain] });
    void consumer.run({ eachMessage: async () => undefined });
    await waitFor(async () => (consumer.assignment().length > 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, describe: 'assigned' });
    await commit(consumer, plain, 3);
    await consumer.disconnect();
    const metrics = new PrometheusMetrics();
    const lag = collector(['status-gone'], { metrics });
    await lag.collect();
    expect(await metrics.render()).toContain(`shopstream_consumergroup_lag{group="${group('status-gone')}",topic="${plain}",partition="0"} 7`);
    await admin.deleteGroups([group('status-gone')]);
    await lag.collect();
    expect(await metrics.render()).not.toContain(`group="${group('status-gone')}"`);
  });
});

function bind(source: LagSource): LagSource {
  return {
    committedOffsets: (g) => source.committedOffsets(g),
    partitionEnds: (t) => source.partitionEnds(t),
    membership: (g) => source.membership(g),
    firstRecords: (r) => source.firstRecords(r),
    close: () => source.close(),
  };
}
