import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'mysql2/promise';
import { waitFor } from '../../core/retry.js';
import { createMysqlPool } from '../../mysql/pool.js';
import { createTestDatabase, deleteTopics } from '../support/env.js';
import { exited, spawnShopstream } from '../support/process.js';
import { aggregates, insertEvents, readTopic, testTopics, unpublishedCount, type TestTopics } from '../support/relay.js';

/** kill -9 of a relay process in the middle of a drain, then a restart: nothing is lost. */
describe('relay crash', () => {
  let pool: Pool;
  let t: TestTopics;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createMysqlPool({ url: database.url, connectionLimit: 4 });
    t = await testTopics();
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    if (t) await deleteTopics(t.prefix);
  });

  it('after kill -9 mid-batch and a restart, every event is in Kafka; duplicates share their event_id', async () => {
    const ids = aggregates(3_000);
    const events = Array.from({ length: 10 }, (_, v) => ids.map((aggregateId) => ({ aggregateId, version: v + 1 }))).flat();
    const eventIds = await insertEvents(pool, events);
    const env = { MYSQL_URL: database.url, SHOPSTREAM_TOPIC_PREFIX: t.prefix, KAFKA_TOPIC_PARTITIONS: '3' };
    const published = async () => {
      const [[row]] = (await pool.query('SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NOT NULL')) as unknown as [[{ n: number }]];
      return Number(row!.n);
    };

    const first = spawnShopstream(['start', '--roles', 'relay'], env);
    await waitFor(async () => ((await published()) >= 3_000 ? true : undefined), { timeoutMs: 90_000, intervalMs: 20, describe: `progress (${first.output()})` });
    // A random moment after progress, so the kill lands inside a batch (sent, not yet marked) as often as between.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await published();
    expect(atKill).toBeLessThan(30_000); // killed mid-drain

    const second = spawnShopstream(['start', '--roles', 'relay'], env);
    try {
      await waitFor(async () => ((await unpublishedCount(pool)) === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, describe: `drain (${second.output()})` });
    } finally {
      second.kill('SIGTERM');
      await exited(second);
    }

    const wanted = new Set(eventIds);
    const records = (await readTopic(t.topics.orders, t.registry, (r) => new Set(r.map((x) => x.eventId)).size >= wanted.size, { timeoutMs: 120_000 })).filter((r) =>
      wanted.has(r.eventId),
    );
    expect(new Set(records.map((r) => r.eventId)).size).toBe(30_000); // 0 lost
    // A duplicate is the same event (same event_id, same key and version): dropping repeats by
    // event_id leaves every aggregate's versions in order.
    const firstSeen = new Map<string, (typeof records)[number]>();
    for (const record of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      const seen = firstSeen.get(record.eventId);
      if (seen) expect([record.key, record.version]).toEqual([seen.key, seen.version]);
      else firstSeen.set(record.eventId, record);
    }
    const byKey = new Map<string, number[]>();
    for (const record of firstSeen.values()) byKey.set(record.key, [...(byKey.get(record.key) ?? []), record.version]);
    for (const versions of byKey.values()) expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    console.log(`relay crash: ${atKill} published before kill -9, ${records.length - 30_000} duplicates after restart`);
  });
});
