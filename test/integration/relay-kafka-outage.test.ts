import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { createKafka, kafkaReadiness } from '../../kafka/client.js';
import { kafkaDown, kafkaUp } from '../../stack/kafka.js';
import { resolveStackOptions, type StackOptions } from '../../stack/options.js';
import { startApi, type ApiHarness } from '../support/api.js';
import { freePort } from '../support/process.js';
import { aggregates, insertEvents, readTopic, testRelay, testTopics, unpublishedCount, versionsByKey, type TestTopics } from '../support/relay.js';

/**
 * Kafka stops for a while under writes. This test runs a broker of its own (the shared one serves
 * the other tests), started and stopped with the stack's own code.
 */
describe('relay through a Kafka outage', () => {
  let stack: StackOptions;
  let api: ApiHarness;
  let t: TestTopics;
  let kafka: { brokers: string[]; clientId: string };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-kafka-'));
    stack = resolveStackOptions({ dir, kafkaBroker: `127.0.0.1:${await freePort()}`, kafkaControllerPort: await freePort(), kafkaHeapMb: 384, say: () => undefined });
    await kafkaUp(stack);
    kafka = { brokers: [stack.kafkaBroker], clientId: 'outage-test' };
    t = await testTopics(kafka, 2);
    api = await startApi();
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    if (stack) {
      await kafkaDown(stack);
      rmSync(stack.dir, { recursive: true, force: true });
    }
  });

  it('keeps accepting writes, grows the backlog, then drains everything in order: 0 lost', async () => {
    const { relay, close } = testRelay(api.pool, t, { errorBackoffMs: 250 }, kafka);
    relay.start();
    const probe = createKafka(kafka).admin();
    await probe.connect();
    const kafkaReady = kafkaReadiness(probe);
    const ids = aggregates(50);
    try {
      const users: string[] = [];
      const register = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const response = await api.call('POST', '/api/users', { email: `u${users.length}@outage.test`, name: `U${users.length}` });
          expect(response.status).toBe(201);
          users.push(response.body.id);
        }
      };
      await register(50);
      await insertEvents(api.pool, ids.map((aggregateId) => ({ aggregateId, version: 1 })));
      await waitFor(async () => ((await unpublishedCount(api.pool)) === 0 ? true : undefined), { timeoutMs: 30_000, describe: 'the first drain' });

      await kafkaDown(stack);
      await register(100); // the API keeps accepting writes into the outbox
      for (let version = 2; version <= 5; version++) await insertEvents(api.pool, ids.map((aggregateId) => ({ aggregateId, version })));
      await waitFor(async () => (relay.infrastructureError ? true : undefined), { timeoutMs: 30_000, describe: 'the relay to notice the outage' });
      expect(await unpublishedCount(api.pool)).toBe(100 + 200);
      expect((await kafkaReady()).ok).toBe(false); // /readyz answers 503 meanwhile

      await kafkaUp(stack);
      await waitFor(async () => ((await unpublishedCount(api.pool)) === 0 ? true : undefined), { timeoutMs: 90_000, intervalMs: 250, describe: 'the drain after the outage' });
      expect(relay.infrastructureError).toBeUndefined();
      expect((await kafkaReady()).ok).toBe(true);

      const userRecords = await readTopic(t.topics.users, t.registry, (r) => new Set(r.map((x) => x.key)).size >= 150, { kafka });
      expect(new Set(userRecords.map((r) => r.key))).toEqual(new Set(users));
      const orderRecords = await readTopic(t.topics.orders, t.registry, (r) => new Set(r.map((x) => x.eventId)).size >= 250, { kafka });
      for (const id of ids) expect([...new Set(versionsByKey(orderRecords).get(id))]).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await close();
      await probe.disconnect();
    }
  });
});
