import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'mysql2/promise';
import { createMysqlPool } from '../../mysql/pool.js';
import { mysqlOutboxStore } from '../../mysql/outbox-store.js';
import { waitFor } from '../../core/retry.js';
import { createTestDatabase, deleteTopics } from '../support/env.js';
import { aggregates, firstCopies, insertEvents, readTopic, testRelay, testTopics, unpublishedCount, versionsByKey, type TestTopics } from '../support/relay.js';

/** The outbox relay against the real MariaDB, Kafka and Schema Registry. */
describe('outbox relay', () => {
  let pool: Pool;
  let t: TestTopics;
  let dropDatabase: () => Promise<void>;
  let databaseUrl: string;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    databaseUrl = database.url;
    pool = createMysqlPool({ url: database.url, connectionLimit: 30 });
    t = await testTopics();
  });
  afterAll(async () => {
    await pool?.end();
    await dropDatabase?.();
    if (t) await deleteTopics(t.prefix);
  });

  it('publishes an event whose transaction committed after higher ids were published (0 skipped)', async () => {
    const [early, late] = aggregates(2);
    // A transaction takes a lower outbox id and stays open.
    const held = await pool.getConnection();
    await held.beginTransaction();
    const heldId = randomUUID();
    await held.query('INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload) VALUES (?, ?, ?, ?, ?, ?)', [
      heldId,
      'order',
      early,
      1,
      'OrderStatusChanged',
      JSON.stringify({ orderId: early, version: 1, previousStatus: 'PAID', status: 'SHIPPED', paymentMethod: null, changedAt: Date.now() * 1000 }),
    ]);
    const [laterId] = await insertEvents(pool, [{ aggregateId: late!, version: 1 }]);
    const { relay, published, close } = testRelay(pool, t);
    relay.start();
    try {
      await waitFor(async () => (published.has(laterId!) ? true : undefined), { timeoutMs: 20_000, describe: 'the later event' });
      expect(published.has(heldId)).toBe(false);
      await held.commit();
      relay.notify();
      await waitFor(async () => (published.has(heldId) ? true : undefined), { timeoutMs: 20_000, describe: 'the held event after its commit' });
    } finally {
      held.release();
      await close();
    }
    const records = await readTopic(t.topics.orders, t.registry, (r) => r.length >= 2);
    expect(records.map((r) => r.eventId).sort()).toEqual([heldId, laterId].sort());
  });

  it('three relays over 20,000 events of 500 aggregates: all published once, in order per aggregate', async () => {
    const ids = aggregates(500);
    const events = Array.from({ length: 40 }, (_, v) => ids.map((aggregateId) => ({ aggregateId, version: v + 1 }))).flat();
    const eventIds = await insertEvents(pool, events);
    const pools = [0, 1, 2].map(() => createMysqlPool({ url: databaseUrl, connectionLimit: 4 }));
    const relays = pools.map((own) => testRelay(own, t, { batchSize: 500 }));
    for (const r of relays) r.relay.start();
    try {
      await waitFor(async () => ((await unpublishedCount(pool)) === 0 ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, describe: 'an empty outbox' });
    } finally {
      for (const r of relays) await r.close();
      for (const own of pools) await own.end();
    }
    // No two claims took the same row: an event published by two relays comes only from a claim
    // whose transaction did not commit after sending (run again after a deadlock, or failed).
    const [a, b, c] = relays.map((r) => r.published);
    const uncommitted = new Set(relays.flatMap((r) => [...r.uncommitted]));
    for (const [x, y] of [
      [a!, b!],
      [a!, c!],
      [b!, c!],
    ]) {
      expect([...x].filter((id) => y.has(id) && !uncommitted.has(id))).toEqual([]);
    }
    expect(new Set([...a!, ...b!, ...c!]).size).toBe(eventIds.length);
    if (uncommitted.size === 0) expect(a!.size + b!.size + c!.size).toBe(eventIds.length);
    else console.log(`relay test: ${uncommitted.size} events were claimed by a transaction that did not commit`);
    // Claims competed (else the checks above prove nothing); under a loaded machine the last relay
    // to start may find the outbox already taken, so two of the three suffice.
    expect([a!, b!, c!].filter((published) => published.size > 0).length).toBeGreaterThanOrEqual(2);

    const wanted = new Set(eventIds);
    const records = (await readTopic(t.topics.orders, t.registry, (r) => r.filter((x) => wanted.has(x.eventId)).length >= wanted.size, { timeoutMs: 120_000 })).filter((r) =>
      wanted.has(r.eventId),
    );
    expect(new Set(records.map((r) => r.eventId)).size).toBe(20_000);
    // Kafka holds no event more often than the relays sent it: a repeat comes only from a send
    // that failed (it may have reached the broker) or a claim run again, never from a broker-side
    // duplicate (idempotent producer) or two claims taking the same row (checked above).
    const sends = new Map<string, number>();
    for (const r of relays) for (const [id, n] of r.sends) sends.set(id, (sends.get(id) ?? 0) + n);
    const counts = new Map<string, number>();
    for (const r of records) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
    expect([...counts].filter(([id, n]) => n > (sends.get(id) ?? 0))).toEqual([]);
    const resent = [...sends.values()].filter((n) => n > 1).length;
    if (resent > 0) console.log(`relay test: ${resent} events were sent more than once (failed sends or claims run again)`);
    else expect(records).toHaveLength(20_000);
    const inOrder = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const [key, versions] of versionsByKey(firstCopies(records))) expect(versions, key).toEqual(inOrder);
  });

  it('parks a poison row after its attempts; its aggregate waits behind it, others flow; retry re-queues it', async () => {
    const [poisoned, healthy] = aggregates(2);
    const [badId] = await insertEvents(pool, [{ aggregateId: poisoned!, version: 1, poison: true }]);
    const [blockedId, goodId] = await insertEvents(pool, [
      { aggregateId: poisoned!, version: 2 },
      { aggregateId: healthy!, version: 1 },
    ]);
    const store = mysqlOutboxStore(pool);
    const { relay, published, close } = testRelay(pool, t, { maxAttempts: 3, attemptBackoffMs: 20, errorBackoffMs: 50 });
    relay.start();
    try {
      // Other aggregates flow while the poison row is retried and parked.
      await waitFor(async () => (published.has(goodId!) && (await store.listParked(10)).some((row) => row.eventId === badId) ? true : undefined), {
        timeoutMs: 20_000,
        describe: 'the healthy event published and the poison row parked',
      });
      expect(published.has(blockedId!)).toBe(false);
      const [parked] = (await store.listParked(10)).filter((row) => row.eventId === badId);
      expect(parked).toMatchObject({ attempts: 3, aggregateId: poisoned, eventType: 'OrderStatusChanged' });
      expect(parked!.lastError).toMatch(/does not match its Avro schema/);
      expect((await store.stats()).parked).toBeGreaterThanOrEqual(1);

      // Repair the payload, re-queue: the parked event and the one behind it leave, in order.
      await pool.query('UPDATE outbox SET payload = ? WHERE id = ?', [
        JSON.stringify({ orderId: poisoned, version: 1, previousStatus: 'PENDING', status: 'PAID', paymentMethod: 'CARD', changedAt: Date.now() * 1000 }),
        parked!.id,
      ]);
      expect(await store.requeue(parked!.id)).toBe(true);
      relay.notify();
      await waitFor(async () => (published.has(blockedId!) ? true : undefined), { timeoutMs: 20_000, describe: 'the blocked event' });
    } finally {
      await close();
    }
    const records = await readTopic(t.topics.orders, t.registry, (r) => r.filter((x) => x.key === poisoned).length >= 2);
    expect(versionsByKey(records).get(poisoned!)).toEqual([1, 2]);
  });

  it('claims an aggregate\'s backlog in runs, in version order; an event that fails ends its run', async () => {
    // Three busy aggregates (as a product's stock row is: every order changes it), 600 events each.
    const busy = aggregates(3);
    await insertEvents(pool, Array.from({ length: 600 }, (_, v) => busy.map((aggregateId) => ({ aggregateId, version: v + 1 }))).flat());
    const store = mysqlOutboxStore(pool);
    const published = new Map<string, number[]>(busy.map((id) => [id, []]));
    let claims = 0;
    // Decides as the relay and its publisher do: an event that fails is not sent, nor any later
    // event of its aggregate in the batch. Version 300 of the first aggregate fails for good.
    const decide = async (rows: Parameters<Parameters<typeof store.claim>[1]>[0]) => {
      claims++;
      const blocked = new Set<string>();
      const decision = { published: [] as string[], failed: [] as { id: string; error: string; park: boolean; retryInMs: number }[] };
      for (const row of rows) {
        if (blocked.has(row.aggregateId)) continue;
        if (row.aggregateId === busy[0] && row.aggregateVersion === 300) {
          decision.failed.push({ id: row.id, error: 'poison', park: true, retryInMs: 0 });
          blocked.add(row.aggregateId);
          continue;
        }
        decision.published.push(row.id);
        published.get(row.aggregateId)?.push(row.aggregateVersion);
      }
      return decision;
    };
    while ((await store.claim(500, decide)) > 0);
    const versions = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expect(published.get(busy[0]!)).toEqual(versions(299));
    expect(published.get(busy[1]!)).toEqual(versions(600));
    expect(published.get(busy[2]!)).toEqual(versions(600));
    // Heads alone would take 600 claims (one event per aggregate each).
    expect(claims).toBeLessThan(12);
  });

  it('purges published rows after the retention window, never unpublished ones', async () => {
    const [agg] = aggregates(1);
    await insertEvents(pool, [{ aggregateId: agg!, version: 1 }]);
    const { relay, close } = testRelay(pool, t, { retentionMs: 0, purgeBatch: 2 });
    await relay.drain();
    await insertEvents(pool, [{ aggregateId: agg!, version: 2, poison: true }]);
    const purged = await relay.purge();
    await close();
    expect(purged).toBeGreaterThan(0);
    const [[left]] = (await pool.query('SELECT COUNT(*) AS total, SUM(published_at IS NULL) AS unpublished FROM outbox')) as unknown as [[{ total: number; unpublished: string }]];
    expect(Number(left!.total)).toBe(Number(left!.unpublished));
    expect(Number(left!.unpublished)).toBeGreaterThan(0);
  });
  it("a claim's mark never waits for another claim: claims lock rows through the primary key only", async () => {
    // Published rows make idx_outbox_pending the index a scan of unpublished rows uses.
    await insertEvents(pool, aggregates(3_000).map((aggregateId) => ({ aggregateId, version: 1 })));
    await pool.query('UPDATE outbox SET published_at = CURRENT_TIMESTAMP(6) WHERE published_at IS NULL');
    const [q, p] = aggregates(2);
    // Q's head takes the lowest id but commits after P's head is claimed.
    const held = await pool.getConnection();
    await held.beginTransaction();
    await held.query('INSERT INTO outbox (event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload) VALUES (?, ?, ?, ?, ?, ?)', [
      randomUUID(), 'order', q, 1, 'OrderStatusChanged', JSON.stringify({ orderId: q, version: 1, previousStatus: 'PAID', status: 'SHIPPED', paymentMethod: null, changedAt: Date.now() * 1000 }),
    ]);
    await insertEvents(pool, [{ aggregateId: p!, version: 1 }]);
    const store = mysqlOutboxStore(pool);
    const gate = () => {
      let open = () => undefined as void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      let entered = () => undefined as void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      return { open, opened, inside, entered };
    };
    const [first, second] = [gate(), gate()];
    const seen: string[][] = [];
    const decideAfter = (g: ReturnType<typeof gate>) => async (rows: { id: string; aggregateId: string }[]) => {
      seen.push(rows.map((row) => row.aggregateId));
      g.entered();
      await g.opened;
      return { published: rows.map((row) => row.id), failed: [] };
    };
    try {
      const a = store.claim(1, decideAfter(first));
      await first.inside; // A holds P's head
      await held.commit();
      await insertEvents(pool, [{ aggregateId: q!, version: 2 }]);
      // B takes Q's head and looks for Q's run past it, across the row A holds.
      const b = store.claim(10, decideAfter(second));
      await second.inside;
      first.open();
      const settled = await Promise.race([a.then(() => 'committed'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 3_000))]);
      second.open();
      await Promise.all([a, b]);
      expect(seen).toEqual([[p], [q, q]]);
      expect(settled).toBe('committed');
    } finally {
      first.open();
      second.open();
      held.release();
    }
    expect(await unpublishedCount(pool)).toBe(0);
  });
});

