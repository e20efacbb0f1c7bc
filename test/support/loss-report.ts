import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import type { KafkaOptions } from '../../kafka/client.js';
import { entry } from './env.js';
import { readTopic, type TestTopics } from './relay.js';

/**
 * When a pipeline test finds ClickHouse off from MySQL: which orders differ, and where along the
 * way (order_changes rows, the aggregates fed from them, the Kafka topics) their records are.
 * Only for failure messages: it reads every topic to its end, so it takes a while.
 */
export async function lossReport(pool: Pool, clickhouse: ClickHouseClient, database: string, t: Pick<TestTopics, 'topics' | 'registry'>, kafka: KafkaOptions = entry.kafka): Promise<string> {
  const [truthRows] = (await pool.query(
    `SELECT o.id, o.version, o.status, o.total_amount AS total, (o.deleted_at IS NULL AND o.status NOT IN ('CANCELLED', 'REFUNDED')) AS counted
     FROM orders o`,
  )) as unknown as [{ id: string; version: number; status: string; total: string; counted: number }[]];
  const signed = await (
    await clickhouse.query({
      query: `SELECT toString(order_id) AS id, sumIf(toInt64(sign), counted = 1) AS counted_sum, toString(sumIf(total_amount * sign, counted = 1)) AS revenue, count() AS rows, max(version) AS max_version
              FROM ${database}.order_changes GROUP BY id`,
      format: 'JSONEachRow',
    })
  ).json<{ id: string; counted_sum: string; revenue: string; rows: string; max_version: string }>();
  const byId = new Map(signed.map((row) => [row.id, row]));
  const differing = truthRows.filter((row) => {
    const seen = byId.get(row.id);
    return Number(seen?.counted_sum ?? 0) !== Number(row.counted) || Number(seen?.max_version ?? 0) !== Number(row.version);
  });
  const totals = await (
    await clickhouse.query({
      query: `SELECT (SELECT sumIf(toInt64(sign), counted = 1) FROM ${database}.order_changes) AS changes,
                     (SELECT sum(orders) FROM ${database}.hourly_sales) AS hourly,
                     (SELECT sumIf(orders, dimension = 'user') FROM ${database}.dimension_sales) AS users`,
      format: 'JSONEachRow',
    })
  ).json();
  const ids = differing.slice(0, 5).map((row) => row.id);
  const rows = ids.length
    ? await (
        await clickhouse.query({
          query: `SELECT toString(order_id) id, version, sign, counted, status, ingested_at FROM ${database}.order_changes WHERE toString(order_id) IN {ids:Array(String)} ORDER BY id, version, sign`,
          query_params: { ids },
          format: 'JSONEachRow',
        })
      ).json()
    : [];
  const names = ids.length ? (['orders', 'ordersEnriched', 'orderChanges'] as const) : [];
  const read = await Promise.all(names.map((name) => readTopic(t.topics[name], t.registry, () => false, { timeoutMs: 15_000, kafka })));
  const topics = Object.fromEntries(
    names.map((name, i) => [name, read[i]!.filter((record) => ids.includes(record.key)).map(({ partition, offset, key, version, name: schema }) => ({ partition, offset, key, version, schema }))]),
  );
  return JSON.stringify({ orders: truthRows.length, differing: differing.slice(0, 5), signed: ids.map((id) => byId.get(id) ?? null), totals, rows, topics }, null, 1);
}
