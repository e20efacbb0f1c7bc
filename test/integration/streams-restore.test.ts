import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, type Admin } from '../../kafka/client.js';
import { changelogTopic, KafkaStreams } from '../../streams/kafka-streams.js';
import { stringSerde } from '../../streams/serdes.js';
import { keyValueStore } from '../../streams/state.js';
import { Topology } from '../../streams/topology.js';
import type { KeyValueStore, ProcessorContext, StreamRecord } from '../../streams/api.js';
import { waitFor } from '../../core/retry.js';
import { entry, uniqueId } from '../support/env.js';
import { PartitionReader } from '../../streams/internal/partition-reader.js';

/** Counts records per key in a logged store and forwards the running count. */
function countingTopology(input: string, output: string): Topology {
  return new Topology()
    .addSource('in', [input], { key: stringSerde, value: stringSerde })
    .addProcessor('count', () => {
      let context: ProcessorContext<string, string>;
      let counts: KeyValueStore<string, number>;
      return {
        init(c: ProcessorContext<string, string>) {
          context = c;
          counts = c.getStateStore('counts');
        },
        process(record: StreamRecord<string, string>) {
          const count = (counts.get(record.key) ?? 0) + 1;
          counts.put(record.key, count);
          context.forward({ ...record, value: String(count) });
        },
      };
    }, 'in')
    .addStateStore(keyValueStore<number>('counts'), 'count')
    .addSink('out', output, { key: stringSerde, value: stringSerde }, 'count');
}

/**
 * A changelog restore must not stop in front of a transaction a dead instance left open: commits
 * made after it by the next owner would be missed, and the restored state would be older than the
 * input offsets (counts would go back).
 */
describe('state restore', () => {
  const id = uniqueId();
  const input = `t${id}.in`;
  const output = `t${id}.out`;
  const applicationId = `t${id}-counter`;
  let admin: Admin;

  beforeAll(async () => {
    admin = createKafka(entry.kafka).admin();
    await admin.connect();
    await admin.createTopics({ topics: [input, output].map((topic) => ({ topic, numPartitions: 1 })) });
  });
  afterAll(async () => {
    await admin?.deleteTopics({ topics: [input, output, changelogTopic(applicationId, 'counts')] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('restores everything committed, also after a transaction a dead instance left open', async () => {
    const kafka = createKafka(entry.kafka);
    const producer = kafka.producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    const send = (n: number) => producer.send({ topic: input, messages: Array.from({ length: n }, () => ({ key: 'k', value: 'x' })) });
    const counts = async () => {
      const reader = new PartitionReader(entry.kafka.brokers, `t${uniqueId()}-check`);
      await reader.connect();
      const values: number[] = [];
      await reader.readToEnd([{ topic: output, partition: 0 }], (record) => void values.push(Number(String(record.value))));
      await reader.close();
      return values;
    };
    const run = async (records: number, expectedTotal: number) => {
      const streams = new KafkaStreams(countingTopology(input, output), entry.kafka, { applicationId, instanceId: `i${uniqueId()}` });
      await streams.start();
      await send(records);
      await waitFor(async () => ((await counts()).length >= expectedTotal ? true : undefined), { timeoutMs: 60_000, describe: `${expectedTotal} counts` });
      await streams.close();
    };
    try {
      await run(3, 3);
      // An instance that died inside a transaction: records on the changelog, never committed;
      // the broker aborts it when it times out.
      const dead = kafka.producer({ 'transactional.id': `t${id}-dead`, 'transaction.timeout.ms': 6_000, 'socket.timeout.ms': 6_000, 'enable.idempotence': true, acks: -1 });
      await dead.connect();
      const transaction = await dead.transaction();
      await transaction.send({ topic: changelogTopic(applicationId, 'counts'), messages: [{ key: 'k', value: '100', partition: 0 }] });
      // The next owner, then the one after it, both while that transaction may still be open.
      await run(2, 5);
      await run(1, 6);
      expect(await counts()).toEqual([1, 2, 3, 4, 5, 6]);
      await dead.disconnect().catch(() => undefined);
    } finally {
      await producer.disconnect();
    }
  }, 120_000);
});
