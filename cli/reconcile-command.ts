import { ClickHouseAnalytics } from '../clickhouse/analytics.js';
import { createClickHouse } from '../clickhouse/client.js';
import { MysqlAnalyticsTruth } from '../mysql/analytics-truth.js';
import { createMysqlPool } from '../mysql/pool.js';
import { reconcile } from '../reconcile/reconcile.js';
import type { EntryConfig } from './config.js';
import { parseReconcileArgs } from './flags.js';

/**
 * `shopstream reconcile [--users N]`: compares every ClickHouse aggregate with MySQL and prints the
 * drift (exit 1 when there is any). With the embedded engine, run it while the pipeline is
 * stopped (the engine's folder belongs to one process).
 */
export async function reconcileCommand(config: EntryConfig, args: string[]): Promise<number> {
  const { users: limit } = parseReconcileArgs(args);
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 2 });
  const clickhouse = createClickHouse(config.clickhouse);
  try {
    const [[range]] = (await pool.query(
      "SELECT DATE_FORMAT(MIN(created_at), '%Y-%m-%d') AS first, DATE_FORMAT(MAX(created_at), '%Y-%m-%d') AS last FROM orders",
    )) as unknown as [[{ first: string | null; last: string | null }]];
    const [users] = (await pool.query('SELECT id FROM users ORDER BY id LIMIT ?', [limit])) as unknown as [{ id: string }[]];
    const today = new Date().toISOString().slice(0, 10);
    const drift = await reconcile(new MysqlAnalyticsTruth(pool), new ClickHouseAnalytics(clickhouse, config.clickhouse.database), {
      from: range?.first ?? today,
      to: range?.last ?? today,
      users: users.map((u) => u.id),
    });
    for (const d of drift) console.log(`DRIFT ${d.aggregate} [${d.key}]\n  mysql:      ${JSON.stringify(d.truth)}\n  clickhouse: ${JSON.stringify(d.analytics)}`);
    console.log(drift.length === 0 ? `No drift: every aggregate equals MySQL (${users.length} users checked).` : `${drift.length} keys drift.`);
    return drift.length === 0 ? 0 : 1;
  } finally {
    await pool.end();
    await clickhouse.close();
  }
}
