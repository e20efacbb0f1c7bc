import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { ClickHouseAnalyticsWriter } from '../../clickhouse/writer.js';
import { createKafka } from '../../kafka/client.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { exchangedTables } from '../../replay/manifest.js';
import type { Replay } from '../../replay/replay.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { exited, spawnShopstream } from '../support/process.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf } from '../support/truth.js';
import { runWorkload } from '../support/workload.js';

const DAYS = 3;

/**
 * `replay` against the real stack while the pipeline runs: shadows rebuilt from Kafka, a crash at
 * chosen points and a resume, an atomic swap under the API's reads, rollback and cleanup.
 *
 * The embedded engine belongs to the pipeline's process, so the replay runs in it; a crash of the
 * replay is a fault injected into its writer at a chosen insert (the Replay object is dropped
 * and a fresh one resumes from what ClickHouse holds, as after kill -9).
 */
describe('replay into shadow tables, swapped while the pipeline runs', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink'], { canary: { intervalMs: 0 } });
  const db = () => isolated.config.clickhouse.database;
  const url = () => isolated.pipeline.url!;
  const deps = () => ({ store: mysqlOrderStore(isolated.pipeline.pool!), signal: isolated.pipeline.relay });
  let users: string[] = [];

  async function caughtUp(): Promise<void> {
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await waitFor(async () => ((await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, db(), users, DAYS)).length === 0 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 500,
      describe: 'analytics equal to MySQL',
    });
  }

  /** Caught up, with the live tables still off by exactly the two rows the test added. */
  async function caughtUpBesidesGhosts(): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    await waitFor(
      async () => {
        const drift = await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, db(), users, DAYS);
        const ghostly = (d: (typeof drift)[number]) => d.aggregate === 'daily-sales' || d.aggregate === `hourly-sales ${today}`;
        // The stats of all time and of the ranges that end today (the dashboard's), each off by the ghost orders.
        const stats = drift.filter((d) => d.aggregate === 'stats');
        const off = (d: (typeof drift)[number]) => (d.analytics as { orders: number }).orders - (d.truth as { orders: number }).orders;
        const ghostlyStats = stats.length > 0 && stats.some((d) => d.key === 'all') && stats.every((d) => off(d) === 1000);
        return drift.every((d) => ghostly(d) || d.aggregate === 'stats') && ghostlyStats ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, describe: 'analytics equal to MySQL but for the added rows' },
    );
  }

  async function stats(): Promise<{ orders: number; revenue: string; customers: number }> {
    const response = await fetch(`${url()}/api/analytics/stats`);
    expect(response.status).toBe(200);
    return (await response.json()) as { orders: number; revenue: string; customers: number };
  }

  async function committed(group: string): Promise<Map<string, bigint>> {
    const admin = createKafka(isolated.config.kafka).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: group });
      return new Map(offsets.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}:${p.partition}`, BigInt(p.offset)] as [string, bigint])));
    } finally {
      await admin.disconnect();
    }
  }

  function neverBackwards(before: Map<string, bigint>, after: Map<string, bigint>): string[] {
    return [...before].filter(([key, offset]) => offset >= 0n && (after.get(key) ?? -1n) < offset).map(([key]) => key);
  }

  /** The pipeline's replay with its writer failing (as a killed process would stop) at insert `failAt`. */
  async function crashingReplay(failAt: number, landFirst: boolean): Promise<{ replay: Replay; close: () => Promise<void>; crashed: () => boolean }> {
    const opened = await isolated.pipeline.openReplay({ maxBatchSize: 150 });
    let inserts = 0;
    let crashed = false;
    const deps = (opened.replay as unknown as { deps: { writerFor: (database: string) => ClickHouseAnalyticsWriter } }).deps;
    const writerFor = deps.writerFor;
    deps.writerFor = (database) => {
      const writer = writerFor(database);
      const insert = (writer as unknown as { insert: (...args: unknown[]) => Promise<void> }).insert.bind(writer);
      (writer as unknown as { insert: (...args: unknown[]) => Promise<void> }).insert = async (...args: unknown[]) => {
        if (++inserts === failAt) {
          crashed = true;
          if (landFirst) await insert(...args); // the insert landed; the process died before going on
          throw new Error(`injected crash at insert ${failAt}`);
        }
        return insert(...args);
      };
      return writer;
    };
    return { ...opened, crashed: () => crashed };
  }

  it('rebuilds every table from Kafka, resumes after crashes, swaps atomically under reads, rolls back and cleans up', async () => {
    const first = await runWorkload(deps(), { operations: 1_200, seed: 41, days: DAYS, concurrency: 8 });
    users = first.users;
    await caughtUp();
    const truth = await stats();
    expect(truth.orders).toBeGreaterThan(0);

    // The live tables drift (as after a bug): figures no order explains, in two tables read together.
    const live = isolated.pipeline.clickhouse!;
    await live.command({ query: `INSERT INTO ${db()}.hourly_sales (hour, orders, revenue) VALUES (toStartOfHour(now()), 1000, 1000)` });
    await live.command({ query: `INSERT INTO ${db()}.dimension_sales (dimension, key, orders, revenue) VALUES ('user', 'ghost', 1, 1)` });
    const drifted = await stats();
    expect(drifted.orders).toBe(truth.orders + 1000);
    expect(drifted.customers).toBe(truth.customers + 1);
    const groups = [`${isolated.config.groupPrefix}-sink`, `${isolated.config.groupPrefix}-streams`];
    const offsetsBefore = await Promise.all(groups.map(committed));

    // Writes go on while the replay loads; the replay is killed twice at chosen points.
    const writing = runWorkload(deps(), { operations: 600, seed: 42, days: DAYS, concurrency: 4 });
    const planner = await isolated.pipeline.openReplay();
    const planned = await planner.replay.plan();
    await planner.close();
    expect(planned.ranges.length).toBeGreaterThan(0);
    const a = await crashingReplay(4, false);
    await expect(a.replay.start(planned)).rejects.toThrow(/injected crash/);
    await a.close();
    const b = await crashingReplay(3, true);
    const stored = (await b.replay.current())!;
    expect(stored.id).toBe(planned.id);
    await expect(b.replay.load(stored)).rejects.toThrow(/injected crash/);
    await b.close();
    const { replay, close } = await isolated.pipeline.openReplay({ maxBatchSize: 150 });
    try {
      const loaded = await replay.load((await replay.current())!);
      expect(loaded.state).toBe('loaded');
      users = [...new Set([...users, ...(await writing).users])];
      await caughtUpBesidesGhosts(); // the live pipeline has everything, still off by the two rows

      // Readers poll the API through the swap: they see the drifted figures or the true ones, never a mix.
      const seen: { orders: number; customers: number }[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) seen.push(await stats());
      })();
      const { drift } = await replay.swap(loaded);
      await new Promise((resolve) => setTimeout(resolve, 300));
      polling = false;
      await poller;
      expect(drift).toEqual([]);
      const after = await stats();
      const before = { orders: after.orders + 1000, customers: after.customers + 1 };
      const mixed = seen.filter((s) => !(s.orders === after.orders && s.customers === after.customers) && !(s.orders === before.orders && s.customers === before.customers));
      expect(mixed).toEqual([]);
      expect(seen.some((s) => s.orders === before.orders)).toBe(true);
      expect(seen[seen.length - 1]).toMatchObject({ orders: after.orders, customers: after.customers });
      expect((await driftOf(isolated.pipeline.pool!, live, db(), users, DAYS)).length).toBe(0);

      // The live pipeline goes on on the new tables: nothing lost, nothing counted twice.
      const more = await runWorkload(deps(), { operations: 300, seed: 43, days: DAYS, concurrency: 4 });
      users = [...new Set([...users, ...more.users])];
      await caughtUp();
      const offsetsAfter = await Promise.all(groups.map(committed));
      expect(groups.map((_, i) => neverBackwards(offsetsBefore[i]!, offsetsAfter[i]!))).toEqual([[], []]);

      // Rollback brings the replaced tables back, caught up with the writes since the swap.
      const swapped = (await replay.current())!;
      expect(swapped.state).toBe('swapped');
      const back = await replay.rollback(swapped);
      expect(back.state).toBe('rolled-back');
      const now = await stats();
      const exact = (await driftOf(isolated.pipeline.pool!, live, db(), users, DAYS)).filter((d) => d.aggregate === 'stats' && d.key === 'all');
      expect(exact).toHaveLength(1);
      expect(now.orders).toBe((exact[0]!.truth as { orders: number }).orders + 1000);

      await replay.cleanup();
      expect(await replay.current()).toBeUndefined();
    } finally {
      await close();
    }
  }, 300_000);

  async function cli(args: string[]): Promise<{ code: number | null; output: string }> {
    const c = isolated.config;
    const child = spawnShopstream(args, {
      PORT: new URL(url()).port,
      MYSQL_URL: c.mysql.url,
      KAFKA_BROKERS: c.kafka.brokers.join(','),
      SCHEMA_REGISTRY_URL: c.registryUrl,
      CLICKHOUSE_DATABASE: db(),
      CLICKHOUSE_PATH: c.clickhouse.path,
      SHOPSTREAM_TOPIC_PREFIX: c.topicPrefix,
      SHOPSTREAM_GROUP_PREFIX: c.groupPrefix,
    });
    const code = await exited(child);
    return { code, output: child.output() };
  }

  it('the CLI runs replay and reconcile inside the running pipeline; replay --outbox publishes applied events again and adds nothing', async () => {
    const more = await runWorkload(deps(), { operations: 200, seed: 44, days: DAYS, concurrency: 4 });
    users = [...new Set([...users, ...more.users])];
    await caughtUpBesidesGhosts(); // the tables the first test rolled back to

    const dry = await cli(['replay', '--dry-run']);
    expect(dry.output).toMatch(/Running replay in the pipeline/);
    expect(dry.output).toMatch(/order-changes\.v1\[0\] offsets 0\.\.\d+/);
    expect(dry.output).toMatch(/Dry run: nothing was changed/);
    expect(dry.code).toBe(0);
    expect((await cli(['replay', 'status'])).output).toMatch(/No replay exists/);

    const full = await cli(['replay']);
    expect(full.output).toMatch(/Swapped: the live tables are the rebuilt ones/);
    expect(full.code).toBe(0);
    const reconciled = await cli(['reconcile']);
    expect(reconciled.output).toMatch(/No drift/);
    expect(reconciled.code).toBe(0);
    expect((await cli(['replay', 'cleanup'])).code).toBe(0);

    // Every order event published again, with its event_id: the streams drop versions they hold.
    const changes = async () => Number((await (await isolated.pipeline.clickhouse!.query({ query: `SELECT count() AS n FROM ${db()}.order_changes`, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n);
    const before = await changes();
    const republished = await cli(['replay', '--outbox', '--from-id', '1', '--to-id', '100000000']);
    expect(republished.output).toMatch(/Published \d+ events again/);
    expect(republished.code).toBe(0);
    const ends = async () => {
      const admin = createKafka(isolated.config.kafka).admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(isolated.pipeline.topics.orders)).reduce((sum, p) => sum + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    };
    const published = await ends();
    // The streams have read past the republished events once their group's offsets reach the end.
    await waitFor(async () => {
      const offsets = await committed(`${isolated.config.groupPrefix}-streams`);
      const done = [...offsets].filter(([key]) => key.startsWith(`${isolated.pipeline.topics.orders}:`)).reduce((sum, [, o]) => sum + Number(o), 0);
      return done >= published - 3 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, describe: 'the streams past the republished events' });
    await caughtUp();
    expect(await changes()).toBe(before);
  }, 300_000);

  it('swaps every table a view reads or writes together with it', async () => {
    const result = await isolated.pipeline.clickhouse!.query({
      query: `SELECT name, toString(dependencies_table) AS reads, create_table_query FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'`,
      query_params: { db: db() },
      format: 'JSONEachRow',
    });
    const views = await result.json<{ name: string; create_table_query: string }>();
    expect(views.length).toBeGreaterThan(0);
    const all = exchangedTables({ tables: ['orders', 'order_changes', 'products', 'pipeline_canary'] });
    for (const view of views) {
      const [, target] = /\bTO\s+\w+\.(\w+)/.exec(view.create_table_query)!;
      const [, source] = /\bFROM\s+\w+\.(\w+)/.exec(view.create_table_query)!;
      for (const table of ['orders', 'order_changes', 'products', 'pipeline_canary'] as const) {
        const group = exchangedTables({ tables: [table] });
        expect(group.includes(source!) === group.includes(target!), `${view.name}: ${source} → ${target}`).toBe(true);
      }
      expect(all).toContain(target);
    }
  });
});
