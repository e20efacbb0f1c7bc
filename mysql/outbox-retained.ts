import type { Pool, RowDataPacket } from 'mysql2/promise';
import sql, { type Sql } from 'sql-template-tag';
import { microsToSqlTime, sqlTimeToMicros } from '../core/time.js';
import type { OutboxRow } from '../relay/ports.js';
import type { OutboxSelection, RetainedOutbox } from '../replay/outbox-replay.js';

function where(selection: OutboxSelection): Sql {
  const range =
    'fromId' in selection
      ? sql`id BETWEEN ${String(selection.fromId)} AND ${String(selection.toId)}`
      : sql`created_at BETWEEN ${microsToSqlTime(selection.fromMicros)} AND ${microsToSqlTime(selection.toMicros)}`;
  return sql`published_at IS NOT NULL AND ${range}`;
}

/** The published rows the outbox still retains, read for `replay --outbox`. */
export function mysqlRetainedOutbox(pool: Pool): RetainedOutbox {
  return {
    async count(selection) {
      const query = sql`SELECT COUNT(*) AS n, MIN(id) AS first, MAX(id) AS last FROM outbox WHERE ${where(selection)}`;
      const [[row]] = await pool.query<RowDataPacket[]>(query.sql, query.values);
      return { rows: Number(row!.n), firstId: row!.first === null ? null : String(row!.first), lastId: row!.last === null ? null : String(row!.last) };
    },
    async read(selection, afterId, limit) {
      const query = sql`SELECT id, event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload, created_at, attempts
                        FROM outbox WHERE ${where(selection)} AND id > ${String(afterId)} ORDER BY id LIMIT ${limit}`;
      const [rows] = await pool.query<RowDataPacket[]>(query.sql, query.values);
      return rows.map(
        (row): OutboxRow => ({
          id: String(row.id),
          eventId: row.event_id,
          aggregateType: row.aggregate_type,
          aggregateId: row.aggregate_id,
          aggregateVersion: Number(row.aggregate_version),
          eventType: row.event_type,
          payload: JSON.parse(row.payload),
          createdAt: sqlTimeToMicros(row.created_at),
          attempts: Number(row.attempts),
        }),
      );
    },
  };
}
