import { microsToIso } from '../core/time.js';
import { mysqlOutboxStore } from '../mysql/outbox-store.js';
import { createMysqlPool } from '../mysql/pool.js';
import type { EntryConfig } from './config.js';
import { parseOutboxArgs } from './flags.js';

/** `shopstream outbox failed` lists parked events; `shopstream outbox retry <id>` re-queues one. */
export async function outboxCommand(config: EntryConfig, args: string[]): Promise<number> {
  const command = parseOutboxArgs(args);
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 1 });
  const store = mysqlOutboxStore(pool);
  try {
    if (command.action === 'failed') {
      const parked = await store.listParked(1_000);
      if (parked.length === 0) console.log('No parked outbox events.');
      for (const row of parked) {
        console.log(`${row.id}\t${row.eventType}\t${row.aggregateType}:${row.aggregateId} v${row.aggregateVersion}\tattempts ${row.attempts}\tparked ${microsToIso(row.parkedAt)}\n\t${row.lastError ?? ''}`);
      }
      return 0;
    }
    const requeued = await store.requeue(command.id);
    console.log(requeued ? `Outbox event ${command.id} re-queued; the relay will publish it (and what waited behind it).` : `No unpublished outbox event ${command.id}.`);
    return requeued ? 0 : 1;
  } finally {
    await pool.end();
  }
}
