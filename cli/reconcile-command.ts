import { ClickHouseAnalytics } from '../clickhouse/analytics.js';
import { createClickHouse } from '../clickhouse/client.js';
import { MysqlAnalyticsTruth, reconcileScope } from '../mysql/analytics-truth.js';
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
    const scope = await reconcileScope(pool, limit);
    const drift = await reconcile(new MysqlAnalyticsTruth(pool), new ClickHouseAnalytics(clickhouse, config.clickhouse.database), scope);
    for (const d of drift) console.log(`DRIFT ${d.aggregate} [${d.key}]\n  mysql:      ${JSON.stringify(d.truth)}\n  clickhouse: ${JSON.stringify(d.analytics)}`);
    console.log(drift.length === 0 ? `No drift: every aggregate equals MySQL (${scope.users.length} users checked).` : `${drift.length} keys drift.`);
    return drift.length === 0 ? 0 : 1;
  } finally {
    await pool.end();
    await clickhouse.close();
  }
}
