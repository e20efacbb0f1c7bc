import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'mysql2/promise';
import { createClickHouse } from '../../clickhouse/client.js';
import { waitFor } from '../../core/retry.js';
import { MysqlAnalyticsTruth } from '../../mysql/analytics-truth.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { createMysqlPool } from '../../mysql/pool.js';
import { createTestDatabase, deleteTopics, entry, uniqueId } from '../support/env.js';
import { exited, freePort, spawnShopstream } from '../support/process.js';
import { testRelay, testTopics, unpublishedCount, type TestTopics } from '../support/relay.js';
import { lossReport } from '../support/loss-report.js';
import { driftOf, finalOrders } from '../support/truth.js';
import { runWorkload } from '../support/workload.js';

const DAYS = 5;
const OPERATIONS = 2_000;
const KILLS = 7;

/**
 * kill -9 of the process running the streams topology and the sink, at random points of a
 * workload, and restarts. Every restart starts with empty state stores, rebuilt from their
 * changelogs (state is in memory only: deleting local state is the normal path). The kills come
 * faster than the group notices a dead member, so restarted processes meet partitions held by
 * dead members and transactions the dead left open (the restore must wait for those). Once
 * caught up, every aggregate equals MySQL and `orders FINAL` matches MySQL row for row.
 */
describe('streams and sink crash', () => {
  let pool: Pool;
  let t: TestTopics;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const clickhousePath = mkdtempSync(join(tmpdir(), 'shopstream-crash-ch-'));
  const clickhouseDatabase = `analytics_t${uniqueId()}`;
  const groupPrefix = `t${uniqueId()}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createMysqlPool({ url: database.url, connectionLimit: 20 });
    t = await testTopics(entry.kafka, 3);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    if (t) await deleteTopics(t.prefix, groupPrefix);
    rmSync(clickhousePath, { recursive: true, force: true });
  });

  it('keeps every aggregate exact through kill -9 and restarts', async () => {
    const port = await freePort();
    const env = {
      MYSQL_URL: database.url,
      SHOPSTREAM_TOPIC_PREFIX: t.prefix,
      SHOPSTREAM_GROUP_PREFIX: groupPrefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      CLICKHOUSE_PATH: clickhousePath,
      CLICKHOUSE_DATABASE: clickhouseDatabase,
      PORT: String(port),
      LOG_LEVEL: 'info',
    };
    const children: ReturnType<typeof spawnShopstream>[] = [];
    const startChild = async () => {
      const child = spawnShopstream(['start', '--roles', 'api,streams,sink'], env);
      children.push(child);
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined), {
        timeoutMs: 60_000,
        describe: `the streams process (${child.output()})`,
      });
      return child;
    };
    let child = await startChild();
    const { relay, close } = testRelay(pool, t);
    relay.start();
    const deps = { store: mysqlOrderStore(pool), signal: relay };
    let kills = 0;
    try {
      const workload = await runWorkload(deps, {
        operations: OPERATIONS,
        seed: 7,
        days: DAYS,
        concurrency: 6,
        progressEvery: OPERATIONS / (KILLS + 1),
        onProgress: async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
          child.kill('SIGKILL');
          await exited(child);
          kills++;
          child = await startChild();
        },
      });
      expect(kills).toBe(KILLS);
      await waitFor(async () => ((await unpublishedCount(pool)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
      // Caught up means both loads: the signed changes (stats) and the latest states (first/last
      // order per user come from analytics.orders).
      const truthReader = new MysqlAnalyticsTruth(pool);
      const truth = { stats: await truthReader.stats(), users: await Promise.all(workload.users.map((user) => truthReader.userSales(user))) };
      let last: unknown;
      const caughtUp = await waitFor(
        async () => {
          last = {
            stats: await (await fetch(`http://127.0.0.1:${port}/api/analytics/stats`)).json(),
            users: await Promise.all(workload.users.map(async (user) => (await fetch(`http://127.0.0.1:${port}/api/analytics/users/${user}`)).json())),
          };
          return JSON.stringify(last) === JSON.stringify(truth) ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500, describe: 'the analytics to catch up' },
      ).catch((error) => error as Error);
      child.kill('SIGTERM');
      const code = await exited(child);
      if (caughtUp instanceof Error) {
        const clickhouse = createClickHouse({ path: clickhousePath, database: clickhouseDatabase });
        const report = await lossReport(pool, clickhouse, clickhouseDatabase, t).finally(() => clickhouse.close());
        const logs = children.map((spawned, i) => `--- child ${i}\n${spawned.output().split('\n').filter((l) => /WARN|ERROR|rebuild|restored/i.test(l)).slice(-40).join('\n')}`);
        throw new Error(`${caughtUp.message}\ntruth ${JSON.stringify(truth)}\nseen  ${JSON.stringify(last)}\n${report}\n${logs.join('\n')}`);
      }
      expect(code, child.output()).toBe(0);

      // The embedded engine's folder is free now: check everything directly.
      const clickhouse = createClickHouse({ path: clickhousePath, database: clickhouseDatabase });
      try {
        const { mysql, clickhouse: analytics } = await finalOrders(pool, clickhouse, clickhouseDatabase);
        if (JSON.stringify(analytics) !== JSON.stringify(mysql)) console.log(await lossReport(pool, clickhouse, clickhouseDatabase, t));
        expect(await driftOf(pool, clickhouse, clickhouseDatabase, workload.users, DAYS)).toEqual([]);
        expect(analytics).toEqual(mysql);
      } finally {
        await clickhouse.close();
      }
    } finally {
      await close();
      for (const spawned of children) {
        if (spawned.exitCode === null && spawned.signalCode === null) {
          spawned.kill('SIGKILL');
          await exited(spawned);
        }
      }
    }
  }, 600_000);
});
