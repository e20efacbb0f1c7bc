import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'mysql2/promise';
import { ClickHouseAnalytics } from '../clickhouse/analytics.js';
import { createClickHouse } from '../clickhouse/client.js';
import { MysqlAnalyticsTruth, reconcileScope } from '../mysql/analytics-truth.js';
import { createMysqlPool } from '../mysql/pool.js';
import { reconcile } from '../reconcile/reconcile.js';
import type { EntryConfig } from './config.js';
import { parseReconcileArgs } from './flags.js';
import { runInPipeline } from './ops-client.js';
import { consoleOutput, type CommandOutput } from './output.js';

/**
 * `shopstream reconcile [--users N]`: compares every ClickHouse aggregate with MySQL and prints the
 * drift (exit 1 when there is any). With a pipeline running it runs inside that process (which
 * owns the embedded engine); with none, here.
 */
export async function reconcileCommand(config: EntryConfig, args: string[]): Promise<number> {
  parseReconcileArgs(args);
  const routed = await runInPipeline(config, 'reconcile', args);
  if (routed !== undefined) return routed;
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 2 });
  const clickhouse = createClickHouse(config.clickhouse);
  try {
    return await runReconcile(pool, clickhouse, config.clickhouse.database, args, consoleOutput());
  } finally {
    await pool.end();
    await clickhouse.close();
  }
}

/** The comparison, printed per drifting key, on the given connections (this process or an ops job). */
export async function runReconcile(pool: Pool, clickhouse: ClickHouseClient, database: string, args: string[], out: CommandOutput): Promise<number> {
  const { users: limit } = parseReconcileArgs(args);
  const scope = await reconcileScope(pool, limit);
  const drift = await reconcile(new MysqlAnalyticsTruth(pool), new ClickHouseAnalytics(clickhouse, database), scope);
  for (const d of drift) out.line(`DRIFT ${d.aggregate} [${d.key}]\n  mysql:      ${JSON.stringify(d.truth)}\n  clickhouse: ${JSON.stringify(d.analytics)}`);
  out.line(drift.length === 0 ? `No drift: every aggregate equals MySQL (${scope.users.length} users checked).` : `${drift.length} keys drift.`);
  return drift.length === 0 ? 0 : 1;
}
