import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AvroRegistry } from '../../registry/avro-registry.js';
import { loadSchemaFiles, SCHEMAS_DIR } from '../../registry/catalog.js';
import { entry, uniqueId } from '../support/env.js';

const BIN = fileURLToPath(new URL('../../bin/shopstream.js', import.meta.url));

/** schemas:check against the real registry: BACKWARD_TRANSITIVE is enforced before deploy. */
describe('schema governance', () => {
  const prefix = `t${uniqueId()}.`;
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function editedCopy(edit: (schema: { fields: { name: string; default?: unknown; type: unknown }[] }) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'shopstream-avsc-'));
    dirs.push(dir);
    cpSync(SCHEMAS_DIR, dir, { recursive: true });
    const path = join(dir, 'shop.orders.v1', 'OrderCreated.avsc');
    const schema = JSON.parse(readFileSync(path, 'utf8'));
    edit(schema);
    writeFileSync(path, JSON.stringify(schema, null, 2));
    return dir;
  }

  function check(dir: string): { code: number; output: string } {
    try {
      const output = execFileSync(process.execPath, [BIN, 'schemas', 'check', '--dir', dir], {
        env: { ...process.env, SHOPSTREAM_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
      return { code: 0, output };
    } catch (error) {
      const failed = error as { status: number; stdout: string };
      return { code: failed.status, output: failed.stdout };
    }
  }

  it('registers every contract with BACKWARD_TRANSITIVE under topic-record-name subjects', async () => {
    const registry = new AvroRegistry({ url: entry.registryUrl, topicFor: (base) => `${prefix}${base}` });
    const registered = await registry.registerAll();
    expect(registered).toHaveLength(loadSchemaFiles().length);
    const created = registered.find((r) => r.name === 'OrderCreated')!;
    expect(created.subject).toBe(`${prefix}shop.orders.v1-dev.shopstream.orders.OrderCreated`);
    const config = await (await fetch(`${entry.registryUrl}/config/${encodeURIComponent(created.subject)}`)).json();
    expect(config.compatibilityLevel).toBe('BACKWARD_TRANSITIVE');
    expect((await registry.check()).every((r) => r.status === 'compatible')).toBe(true);
  });

  it('rejects an incompatible change (a field added without a default: old records cannot be read)', () => {
    const dir = editedCopy((schema) => schema.fields.push({ name: 'channel', type: 'string' }));
    const result = check(dir);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/incompatible\s+\S+OrderCreated/);
  });

  it('reads every InventoryAdjusted ever written: the cause, reservedDelta and orderId fields came with defaults', async () => {
    // The contract as first registered (creation and admin adjustments only).
    const first = {
      type: 'record',
      name: 'InventoryAdjusted',
      namespace: 'dev.shopstream.inventory',
      fields: [
        { name: 'productId', type: { type: 'string', logicalType: 'uuid' } },
        { name: 'version', type: 'int' },
        { name: 'onHand', type: 'int' },
        { name: 'reserved', type: 'int' },
        { name: 'delta', type: 'int' },
        { name: 'reason', type: ['null', 'string'], default: null },
        { name: 'adjustedAt', type: { type: 'long', logicalType: 'timestamp-micros' } },
      ],
    };
    const current = loadSchemaFiles().find((file) => file.name === 'InventoryAdjusted')!;
    const evolving = `t${uniqueId()}.`;
    const options = { url: entry.registryUrl, topicFor: (base: string) => `${evolving}${base}` };
    const original = { ...current, schema: first as typeof current.schema };
    await new AvroRegistry(options, [original]).register(original);
    const registry = new AvroRegistry(options, [current]);
    expect((await registry.check()).map((r) => r.status)).toEqual(['compatible']);
    await registry.register(current);
  });

  it('accepts a compatible change (a new field with a default)', () => {
    const dir = editedCopy((schema) => schema.fields.push({ name: 'channel', type: 'string', default: 'web' }));
    const result = check(dir);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/all can be registered/);
  });
});
