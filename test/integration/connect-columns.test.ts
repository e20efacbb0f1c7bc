import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '../../clickhouse/client.js';
import { migrateClickHouse } from '../../clickhouse/migrate.js';
import { loadSchemaFiles } from '../../registry/catalog.js';

/**
 * The Kafka Connect ClickHouse sink maps record fields to columns by name: every field of the
 * records it loads must be a column of its table, and every column without a default a field.
 * Checked against the real tables the migrations create.
 */
describe('connect/ against the real ClickHouse tables', () => {
  const path = mkdtempSync(join(tmpdir(), 'shopstream-connect-ch-'));
  const clickhouse = createClickHouse({ path, database: 'analytics' });
  afterAll(async () => {
    await clickhouse.close();
    rmSync(path, { recursive: true, force: true });
  });

  it('maps every Avro field to a column of the same name, and fills every column', async () => {
    await migrateClickHouse(clickhouse, 'analytics');
    const connect = JSON.parse(readFileSync(new URL('../../connect/clickhouse-sink.config.json', import.meta.url), 'utf8')) as Record<string, string>;
    const tableOf = Object.fromEntries(connect['topic2TableMap']!.split(',').map((pair) => pair.split('=') as [string, string]));
    const schemas = loadSchemaFiles();
    for (const [topic, table] of Object.entries(tableOf)) {
      const columns = await (await clickhouse.query({ query: `DESCRIBE TABLE analytics.${table}`, format: 'JSONEachRow' })).json<{ name: string; default_type: string }>();
      const filled = columns.filter((c) => c.default_type === '').map((c) => c.name).sort();
      const fields = (schemas.find((s) => s.baseTopic === topic)!.schema.fields as { name: string }[]).map((f) => f.name).sort();
      expect(fields, `${topic} → ${table}`).toEqual(filled);
    }
  });
});
