import type { Pool, RowDataPacket } from 'mysql2/promise';
import sql, { join } from 'sql-template-tag';
import type { AggregateType } from '../orders/events.js';
import type { OutboxRow, OutboxStore } from '../relay/ports.js';
import { sqlTimeToMicros } from '../core/time.js';
import { inTransaction } from './pool.js';

interface Row extends RowDataPacket {
  id: string;
  event_id: string;
  aggregate_type: AggregateType;
  aggregate_id: string;
  aggregate_version: number;
  event_type: string;
  payload: string;
  created_at: string;
  attempts: number;
}

/**
 * The outbox on MySQL/MariaDB. Claims use `FOR UPDATE SKIP LOCKED`, so relays running side by
 * side take disjoint rows; a row whose transaction has not committed is invisible until it
 * does, whatever its id (no id watermark can skip it). Marks happen in the claim's transaction,
 * after Kafka acknowledged.
 */
export function mysqlOutboxStore(pool: Pool): OutboxStore {
  return {
    claim: (limit, publish) =>
      inTransaction(pool, async (connection) => {
        const query = sql`SELECT id, event_id, aggregate_type, aggregate_id, aggregate_version, event_type, payload, created_at, attempts
                          FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        const [found] = await connection.query<Row[]>(query.sql, query.values);
        if (found.length === 0) return 0;
        const outcome = await publish(found.map(toOutboxRow));
        if (outcome.published.length > 0) {
          const mark = sql`UPDATE outbox SET published_at = CURRENT_TIMESTAMP(6) WHERE id IN (${join(outcome.published)})`;
          await connection.query(mark.sql, mark.values);
        }
        for (const failure of outcome.failed) {
          const note = sql`UPDATE outbox SET attempts = attempts + 1, last_error = ${failure.error.slice(0, 2000)} WHERE id = ${failure.id}`;
          await connection.query(note.sql, note.values);
        }
        return found.length;
      }),
  };
}

function toOutboxRow(row: Row): OutboxRow {
  return {
    id: String(row.id),
    eventId: row.event_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    aggregateVersion: Number(row.aggregate_version),
    eventType: row.event_type,
    payload: JSON.parse(row.payload),
    createdAt: sqlTimeToMicros(row.created_at),
    attempts: Number(row.attempts),
  };
}
