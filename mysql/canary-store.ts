import type { ResultSetHeader, Pool, RowDataPacket } from 'mysql2/promise';
import sql from 'sql-template-tag';
import { randomUUID } from 'node:crypto';
import { sqlTimeToMicros, microsToSqlTime } from '../core/time.js';
import type { HeartbeatLog } from '../canary/ports.js';
import { outboxInsert } from './order-store.js';
import { inTransaction, query } from './pool.js';

/**
 * The canary's heartbeats on MySQL/MariaDB: a heartbeat is an outbox row (aggregate `canary`, its
 * own id, version 1) and a row of canary_heartbeats stamped with the outbox row's created_at,
 * both sent in one packet with the transaction's COMMIT.
 */
export function mysqlHeartbeatLog(pool: Pool): HeartbeatLog {
  return {
    append: (heartbeat) =>
      inTransaction(pool, async (tx) => {
        const eventId = randomUUID();
        tx.defer(outboxInsert({ eventId, aggregateType: 'canary', aggregateId: heartbeat.heartbeatId, aggregateVersion: 1, eventType: 'PipelineHeartbeat', payload: heartbeat }));
        tx.defer(sql`INSERT INTO canary_heartbeats (id, kafka_partition, emitted_at)
                     SELECT ${heartbeat.heartbeatId}, ${heartbeat.partition}, created_at FROM outbox WHERE event_id = ${eventId}`);
      }),

    async emittedSince(since) {
      const rows = await query<RowDataPacket[]>(pool, sql`SELECT id, emitted_at FROM canary_heartbeats WHERE emitted_at >= ${microsToSqlTime(since)} ORDER BY emitted_at`);
      return rows.map((row) => ({ id: String(row.id), emittedAt: sqlTimeToMicros(String(row.emitted_at)) }));
    },

    async purge(retentionMs, limit) {
      const deleted = await query<ResultSetHeader>(
        pool,
        sql`DELETE FROM canary_heartbeats WHERE emitted_at < TIMESTAMPADD(MICROSECOND, ${-Math.round(retentionMs * 1000)}, CURRENT_TIMESTAMP(6))
            ORDER BY emitted_at LIMIT ${limit}`,
      );
      return deleted.affectedRows;
    },
  };
}
