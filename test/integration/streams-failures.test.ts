import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopstreamError } from '../../core/errors.js';
import { waitFor } from '../../core/retry.js';
import { Supervisor } from '../../core/supervisor.js';
import { createKafka, type Admin } from '../../kafka/client.js';
import { AvroRegistry } from '../../registry/avro-registry.js';
import type { FailureHandler, ProcessorContext, Serde, StreamRecord } from '../../streams/api.js';
import { PartitionReader } from '../../streams/internal/partition-reader.js';
import { KafkaStreams } from '../../streams/kafka-streams.js';
import { avroSourceSerde, stringSerde } from '../../streams/serdes.js';
import { Topology } from '../../streams/topology.js';
import type { Decoded } from '../../registry/avro-registry.js';
import { entry, uniqueId } from '../support/env.js';
import { testTopics, type TestTopics } from '../support/relay.js';
import { tcpProxy } from '../support/tcp-proxy.js';

/** A sink serde that refuses (for good) the records whose value is "poison". */
const pickySerde: Serde<string> = {
  serialize: (_topic, value) => {
    if (value === 'poison') throw new ShopstreamError('NOT_SERIALIZABLE', 'this value cannot be written');
    return Buffer.from(value, 'utf8');
  },
  deserialize: (_topic, data) => (data ? data.toString('utf8') : ''),
};

/** Forwards each user's name (decoded from the Avro users topic) to `output`. */
function namesTopology(input: string, output: string, source: Serde<Decoded>): Topology {
  return new Topology()
    .addSource('in', [input], { key: stringSerde, value: source })
    .addProcessor('name', () => {
      let context: ProcessorContext<string, string>;
      return {
        init: (c: ProcessorContext<string, string>) => void (context = c),
        process: (record: StreamRecord<string, Decoded>) => context.forward({ ...record, value: String(record.value.value.name) }),
      };
    }, 'in')
    .addSink('out', output, { key: stringSerde, value: pickySerde }, 'name');
}

async function readAll(topic: string): Promise<{ key: string | null; value: string; headers?: unknown }[]> {
  const reader = new PartitionReader(entry.kafka.brokers, `t${uniqueId()}-check`);
  await reader.connect();
  const records: { key: string | null; value: string }[] = [];
  await reader.readToEnd([{ topic, partition: 0 }], (record) => void records.push({ key: record.key, value: String(record.value) }));
  await reader.close();
  return records;
}

/**
 * Failure policy of the streams runtime against the real broker and registry: a produce-stage
 * failure under `fail` stops the instance (it was retried forever), the dead-letter answer parks
 * the source record, and a registry that cannot be reached while an unknown schema id is decoded
 * is retried with backoff, not fatal.
 */
describe('streams failure policy', () => {
  let t: TestTopics;
  let admin: Admin;
  const id = uniqueId();
  const output = `t${id}.names`;
  const deadLetters = `t${id}.dlq`;
  const afterStall = `t${id}.names-after-stall`;

  beforeAll(async () => {
    t = await testTopics(entry.kafka, 1);
    admin = createKafka(entry.kafka).admin();
    await admin.connect();
    await admin.createTopics({ topics: [output, deadLetters, afterStall].map((topic) => ({ topic, numPartitions: 1 })) });
  });
  afterAll(async () => {
    await admin?.deleteTopics({ topics: [output, deadLetters, afterStall, t.topics.users] }).catch(() => undefined);
    await admin?.disconnect();
  });

  const sendUsers = async (names: string[]) => {
    const producer = createKafka(entry.kafka).producer({ 'enable.idempotence': true, acks: -1 });
    await producer.connect();
    const messages = await Promise.all(
      names.map(async (name, i) => ({
        key: `u${i}`,
        value: (await t.registry.encode('UserRegistered', { userId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`, email: `${name}@example.com`, name, version: 1, registeredAt: Date.now() * 1000 })).value,
      })),
    );
    await producer.send({ topic: t.topics.users, messages });
    await producer.disconnect();
  };

  const run = (applicationId: string, onFailure: FailureHandler, onFatal: (error: unknown) => void, source = avroSourceSerde(t.registry)) =>
    new KafkaStreams(namesTopology(t.topics.users, output, source), entry.kafka, { applicationId, instanceId: `i${uniqueId()}`, onFailure, onFatal, deadLetterTopic: deadLetters });

  it('a produce-stage failure under "fail" stops the instance instead of retrying it forever', async () => {
    await sendUsers(['ada', 'poison', 'grace']);
    let fatal: unknown;
    const streams = run(`t${id}-fail`, () => 'fail', (error) => void (fatal = error));
    await streams.start();
    try {
      await waitFor(async () => (fatal ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, describe: 'the instance to stop' });
      expect((fatal as ShopstreamError).code).toBe('STREAMS_STAGE_FAILED');
      expect(String((fatal as Error).message)).toContain('produce failed');
      // Nothing of the failed transaction was committed.
      expect(await readAll(output)).toEqual([]);
    } finally {
      await streams.close();
    }
  });

  it('a produce-stage failure answered with "dead-letter" parks the source record and goes on', async () => {
    let fatal: unknown;
    const streams = run(`t${id}-dlq`, ({ stage }) => (stage === 'produce' ? 'dead-letter' : 'fail'), (error) => void (fatal = error));
    await streams.start();
    try {
      await waitFor(async () => ((await readAll(output)).length >= 2 ? true : undefined), { timeoutMs: 30_000, describe: 'the healthy records' });
      expect((await readAll(output)).map((r) => r.value)).toEqual(['ada', 'grace']);
      const parked = await readAll(deadLetters);
      expect(parked.map((r) => r.key)).toEqual(['u1']);
      expect(fatal).toBeUndefined();
    } finally {
      await streams.close();
    }
  });

  it('an operation that never finishes stops the instance after stallTimeoutMs; the supervised next one processes each record once', async () => {
    // The first record ever decoded never answers (as a native call stuck in librdkafka would not).
    const decode = avroSourceSerde(t.registry);
    let stuck = false;
    const hanging: Serde<Decoded> = {
      ...decode,
      deserialize: (topic, data, headers) => {
        if (stuck) return decode.deserialize(topic, data, headers);
        stuck = true;
        return new Promise<Decoded>(() => undefined);
      },
    };
    const instanceId = `i${uniqueId()}`; // one transactional id, as in one process: the next instance fences the stuck one
    const supervisor = new Supervisor(
      (onFatal) =>
        new KafkaStreams(namesTopology(t.topics.users, afterStall, hanging), entry.kafka, {
          applicationId: `t${id}-stall`,
          instanceId,
          onFailure: ({ stage }) => (stage === 'produce' ? 'continue' : 'fail'),
          onFatal,
          stallTimeoutMs: 3_000,
        }),
      { name: 'streams', initialDelayMs: 100, maxDelayMs: 500, closeTimeoutMs: 60_000 },
    );
    await supervisor.start();
    try {
      await waitFor(async () => ((await readAll(afterStall)).length >= 2 ? true : undefined), { timeoutMs: 60_000, describe: 'the records, processed by the next instance' });
      expect(stuck).toBe(true);
      expect(supervisor.status()).toMatchObject({ state: 'running', restarts: 1 });
      expect(supervisor.status().lastError).toMatch(/a batch did not finish within \d+ ms/);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await readAll(afterStall)).map((r) => r.value)).toEqual(['ada', 'grace']);
    } finally {
      await supervisor.stop();
    }
  }, 90_000);

  it('an unreachable registry while decoding an unknown schema id is retried with backoff, not fatal', async () => {
    const target = new URL(entry.registryUrl);
    const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 80) });
    await proxy.cut();
    const viaProxy = new URL(entry.registryUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    // A registry client of its own: no schema id is cached yet.
    const cold = new AvroRegistry({ url: viaProxy.toString().replace(/\/$/, ''), topicFor: t.registry.options.topicFor });
    let fatal: unknown;
    const outputBefore = (await readAll(output)).length;
    const streams = run(`t${id}-cold`, ({ stage }) => (stage === 'produce' ? 'continue' : 'fail'), (error) => void (fatal = error), avroSourceSerde(cold));
    await streams.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(fatal).toBeUndefined();
      await proxy.restore();
      await waitFor(async () => ((await readAll(output)).length >= outputBefore + 2 ? true : undefined), { timeoutMs: 60_000, describe: 'records decoded once the registry is back' });
      expect((await readAll(output)).slice(outputBefore).map((r) => r.value)).toEqual(['ada', 'grace']);
      expect(fatal).toBeUndefined();
    } finally {
      await streams.close();
      await proxy.cut().catch(() => undefined);
    }
  }, 90_000);
});
