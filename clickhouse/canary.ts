import type { ClickHouseClient } from '@clickhouse/client';
import type { CanaryArrivals, Heartbeat } from '../canary/ports.js';
import { assertIdentifier } from './client.js';
import { classifyClickHouseError } from './errors.js';

/** The canary's heartbeats queryable in `<db>.pipeline_canary` (loaded by the built-in sink or Kafka Connect). */
export class ClickHouseCanaryArrivals implements CanaryArrivals {
  private readonly db: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database);
  }

  async arrivedSince(since: number): Promise<Heartbeat[]> {
    try {
      const result = await this.client.query({
        query: `SELECT toString(heartbeat_id) AS id, toUnixTimestamp64Micro(emitted_at) AS emitted FROM ${this.db}.pipeline_canary
                WHERE emitted_at >= fromUnixTimestamp64Micro({since:Int64}, 'UTC')`,
        query_params: { since: Math.floor(since) },
        format: 'JSONEachRow',
      });
      return (await result.json<{ id: string; emitted: string }>()).map((row) => ({ id: row.id, emittedAt: Number(row.emitted) }));
    } catch (error) {
      throw classifyClickHouseError(error, 'read the canary heartbeats');
    }
  }
}
