import type { ClickHouseClient } from '@clickhouse/client';
import type { ManifestStore, ShadowTables } from '../replay/ports.js';
import { assertIdentifier } from './client.js';
import { classifyClickHouseError } from './errors.js';
import { migrateClickHouse } from './migrate.js';

/**
 * Shadows of the analytics database: a database of their own migrated with the same migrations
 * (so every table has its views there, feeding the shadow's aggregates), Atomic like the live
 * one, which EXCHANGE TABLES requires. The manifest of the replay that fills a shadow is kept in
 * it, so both survive a crash together.
 */
export class ClickHouseShadows implements ShadowTables, ManifestStore {
  private readonly live: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.live = assertIdentifier(database);
  }

  async create(shadow: string): Promise<void> {
    const db = assertIdentifier(shadow);
    await this.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db} ENGINE = Atomic` });
    await migrateClickHouse(this.client, db);
    await this.client.command({ query: `CREATE TABLE IF NOT EXISTS ${db}.replay_manifest (saved_at DateTime64(6, 'UTC') DEFAULT now64(6), manifest String) ENGINE = MergeTree ORDER BY saved_at` });
  }

  /**
   * EXCHANGE TABLES per table: each exchange is atomic, the set is not (ClickHouse runs a
   * multi-pair EXCHANGE one pair after the other); readers are kept from seeing the set half
   * exchanged by the caller (SwapGate). Views follow their tables by name: after the exchange
   * `<live>.x_mv` reads `<live>.x` and writes `<live>.y`, whichever data those now hold.
   */
  async exchange(shadow: string, tables: readonly string[]): Promise<void> {
    const db = assertIdentifier(shadow);
    for (const table of tables) {
      const name = assertIdentifier(table);
      await this.client.command({ query: `EXCHANGE TABLES ${this.live}.${name} AND ${db}.${name}` }).catch((error: unknown) => {
        throw classifyClickHouseError(error, `exchange ${this.live}.${name} with ${db}.${name}`);
      });
    }
  }

  async drop(shadow: string): Promise<void> {
    await this.client.command({ query: `DROP DATABASE IF EXISTS ${assertIdentifier(shadow)} SYNC` });
  }

  async exists(shadow: string): Promise<boolean> {
    const result = await this.client.query({ query: 'SELECT count() AS n FROM system.databases WHERE name = {name:String}', query_params: { name: shadow }, format: 'JSONEachRow' });
    const [row] = await result.json<{ n: string }>();
    return Number(row?.n) > 0;
  }

  async load(shadow: string): Promise<string | undefined> {
    if (!(await this.exists(shadow))) return undefined;
    const db = assertIdentifier(shadow);
    const exists = await this.client.query({
      query: 'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      query_params: { db, name: 'replay_manifest' },
      format: 'JSONEachRow',
    });
    if (Number((await exists.json<{ n: string }>())[0]?.n) === 0) return undefined;
    const result = await this.client.query({ query: `SELECT manifest FROM ${db}.replay_manifest ORDER BY saved_at DESC LIMIT 1`, format: 'JSONEachRow' });
    return (await result.json<{ manifest: string }>())[0]?.manifest;
  }

  async save(shadow: string, manifest: string): Promise<void> {
    await this.client.insert({ table: `${assertIdentifier(shadow)}.replay_manifest`, values: [{ manifest }], format: 'JSONEachRow' });
  }
}
