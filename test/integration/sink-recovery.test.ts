import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineCanaryRecord } from '../../canary/model.js';
import { createClickHouse } from '../../clickhouse/client.js';
import { ClickHouseRejectedError } from '../../clickhouse/errors.js';
import { migrateClickHouse } from '../../clickhouse/migrate.js';
import { ClickHouseAnalyticsWriter } from '../../clickhouse/writer.js';
import { DependencyError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import { waitFor } from '../../core/retry.js';
import { createKafka } from '../../kafka/client.js';
import type { ProductUpsertedPayload } from '../../orders/events.js';
import { signedChanges, toEnriched, type OrderChange, type OrderEnriched, type OrderState } from '../../orders/records.js';
import { ClickHouseSink, type SinkOptions } from '../../sink/clickhouse-sink.js';
import type { AnalyticsWriter, RangeLedger } from '../../sink/ports.js';
import { entry, uniqueId } from '../support/env.js';
import { deleteTopics } from '../support/env.js';
import { testTopics, type TestTopics } from '../support/relay.js';

type Fault = 'before' | 'after' | 'fatal' | 'fatal-after';

/**
 * Fails chosen inserts (by call number, counted over both tables): `before` a transient failure
 * with nothing written, `after` a transient failure of an insert that landed (its answer lost),
 * `fatal` / `fatal-after` a refusal that stops the sink (before / after the rows landed).
 */
class FaultyWriter implements AnalyticsWriter {
  calls = 0;
  lastCallAt = Date.now();
  /** The tokens of the inserts that landed, in order (a range loaded twice shows as two overlapping tokens). */
  readonly landed: string[] = [];
  constructor(
    private readonly inner: AnalyticsWriter,
    private readonly plan: Map<number, Fault>,
    private readonly journal: string[] = [],
  ) {}
  writeOrders(records: OrderEnriched[], token: string) {
    return this.run(token, () => this.inner.writeOrders(records, token));
  }
  writeChanges(records: OrderChange[], token: string) {
    return this.run(token, () => this.inner.writeChanges(records, token));
  }
  writeProducts(records: ProductUpsertedPayload[], token: string) {
    return this.run(token, () => this.inner.writeProducts(records, token));
  }
  writeCanary(records: PipelineCanaryRecord[], token: string) {
    return this.inner.writeCanary(records, token);
  }
  private async run(token: string, write: () => Promise<void>): Promise<void> {
    const call = ++this.calls;
    this.lastCallAt = Date.now();
    const fault = this.plan.get(call);
    this.journal.push(`insert ${call} ${token}${fault ? ` (${fault})` : ''}`);
    if (fault === 'before') throw new DependencyError('clickhouse', `injected: insert ${call} failed`);
    if (fault === 'fatal') throw new ClickHouseRejectedError(`injected: insert ${call} refused`, 53, undefined);
    await write();
    this.landed.push(token);
    if (fault === 'after') throw new DependencyError('clickhouse', `injected: insert ${call} landed, its answer was lost`);
    if (fault === 'fatal-after') throw new ClickHouseRejectedError(`injected: insert ${call} landed, then refused`, 53, undefined);
  }
}

interface Produced {
  enriched: OrderEnriched[];
  changes: OrderChange[];
}

function state(orderId: string, version: number, status: OrderState['status'], created: number): OrderState {
  return {
    orderId,
    version,
    isDeleted: false,
    userId: '10000000-0000-4000-8000-000000000001',
    userName: 'Ada',
    status,
    currency: 'EUR',
    totalAmount: `${10 + (version % 7)}.50`,
    items: [{ lineNo: 1, productId: '00000000-0000-4000-8000-000000000001', productName: 'Mug', category: 'kitchen', quantity: version, unitPrice: '10.50', lineTotal: `${10 + (version % 7)}.50` }],
    paymentMethod: '',
    paymentStatus: '',
    createdAt: created,
    updatedAt: created + version,
    committedAt: Date.now() * 1000,
  };
}

/**
 * Writes orders' states and signed changes to the two derived topics in small transactions, some
 * of them aborted (their records must never load; they also leave offset gaps, like the streams'
 * transaction markers). Returns what was committed.
 */
async function produce(t: TestTopics, orders: number): Promise<Produced> {
  const producer = createKafka(entry.kafka).producer({ 'transactional.id': `t${uniqueId()}-writer`, 'enable.idempotence': true, acks: -1 });
  await producer.connect();
  const committed: Produced = { enriched: [], changes: [] };
  const created = Date.UTC(2026, 10, 20, 12) * 1000;
  try {
    for (let i = 0; i < orders; i++) {
      const id = randomUUID();
      const v1 = state(id, 1, 'PENDING', created + i * 60_000_000);
      const v2 = state(id, 2, i % 3 === 0 ? 'CANCELLED' : 'PAID', v1.createdAt);
      const batch: Produced = { enriched: [toEnriched(v1), toEnriched(v2)], changes: [...signedChanges(undefined, v1), ...signedChanges(v1, v2)] };
      const transaction = await producer.transaction();
      await transaction.send({
        topic: t.topics.ordersEnriched,
        messages: await Promise.all(batch.enriched.map(async (r) => ({ key: id, value: (await t.registry.encode('OrderEnriched', r)).value }))),
      });
      await transaction.send({
        topic: t.topics.orderChanges,
        messages: await Promise.all(batch.changes.map(async (r) => ({ key: id, value: (await t.registry.encode('OrderChange', r)).value }))),
      });
      if (i % 5 === 4) {
        await transaction.abort();
        continue;
      }
      await transaction.commit();
      committed.enriched.push(...batch.enriched);
      committed.changes.push(...batch.changes);
    }
  } finally {
    await producer.disconnect();
  }
  return committed;
}

/**
 * Makes the group's offset commits resolve without committing (`lose(n)` for the n-th call):
 * what @confluentinc/kafka-javascript's commitOffsets does when the commit it queued (it only
 * queues: commitAsync) is dropped with the generation or overtaken by a late one. Returns the undo.
 */
function loseCommits(lose: (call: number) => boolean, journal: string[]): () => void {
  const prototype = Object.getPrototypeOf(createKafka(entry.kafka).consumer({ kafkaJS: { groupId: 'prototype-only' } })) as { commitOffsets: (...args: unknown[]) => Promise<void> };
  const commit = prototype.commitOffsets;
  let calls = 0;
  prototype.commitOffsets = function (this: unknown, ...args: unknown[]) {
    const lost = lose(++calls);
    journal.push(`commit ${JSON.stringify(args[0])}${lost ? ' (lost)' : ''}`);
    return lost ? Promise.resolve() : commit.apply(this, args);
  };
  return () => void (prototype.commitOffsets = commit);
}

/** Runs sinks over the topics until everything committed is loaded; a sink that stops is replaced (as the supervisor does). */
async function loadWithFaults(
  t: TestTopics,
  writer: FaultyWriter,
  ledger: RangeLedger,
  options: Partial<SinkOptions>,
  expectedRows: number,
  count: () => Promise<number>,
  journal: string[] = [],
) {
  let sink: ClickHouseSink | undefined;
  let restarts = 0;
  const groupId = `t${uniqueId()}-sink`;
  const start = async () => {
    const instance = restarts;
    journal.push(`sink ${instance} starts`);
    const current = new ClickHouseSink(createKafka(entry.kafka), t.registry, writer, journaled(ledger, journal), t.topics, {
      ...options,
      groupId,
      logger: journaledLogger(createLogger(`sink-${instance}`), journal, instance),
      onFatal: () => {
        restarts++;
        void current.close().then(start);
      },
    });
    sink = current;
    await current.start();
  };
  await start();
  try {
    let loaded = 0;
    await waitFor(async () => ((loaded = await count()) >= expectedRows && Date.now() - writer.lastCallAt > 1_500 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 250,
      describe: `${expectedRows} rows loaded and the sink idle`,
    }).catch((error) => {
      throw new Error(`${(error as Error).message}: ${loaded} rows loaded`);
    });
  } finally {
    await sink?.close();
  }
  return { restarts };
}

/** The ledger, with what was recorded and read written to the journal. */
function journaled(ledger: RangeLedger, journal: string[]): RangeLedger {
  return {
    recordRange: async (topic, partition, first, last) => {
      journal.push(`record ${topic}-${partition}-${first}-${last}`);
      await ledger.recordRange(topic, partition, first, last);
    },
    lastRange: async (topic, partition) => {
      const range = await ledger.lastRange(topic, partition);
      journal.push(`last range of ${topic}-${partition}: ${range ? `${range.first}-${range.last}` : 'none'}`);
      return range;
    },
  };
}

function journaledLogger(logger: Logger, journal: string[], instance: number): Logger {
  const entry = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
    journal.push(`sink ${instance} ${level}: ${message} ${JSON.stringify(fields, (_, v: unknown) => (v instanceof Error ? v.message : typeof v === 'bigint' ? String(v) : v))}`);
    logger[level](message, fields);
  };
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error'), child: () => journaledLogger(logger, journal, instance) };
}

/** Pairs of landed inserts whose offset ranges overlap under different tokens: rows loaded twice. */
function overlaps(tokens: string[]): string[] {
  const ranges = [...new Set(tokens)].map((token) => {
    const [, at, first, last] = /^(.*)-(\d+)-(\d+)$/.exec(token)!;
    return { token, at: at!, first: BigInt(first!), last: BigInt(last!) };
  });
  return ranges.flatMap((a, i) => ranges.slice(i + 1).filter((b) => a.at === b.at && a.first <= b.last && b.first <= a.last).map((b) => `${a.token} and ${b.token}`));
}

/**
 * The sink's recovery after failed inserts: whatever fails (before or after the rows landed,
 * transient or fatal, in place or after the partition was read again, in ranges that span several
 * fetches or share one), every committed record is in every table and view exactly once.
 */
describe('sink recovery after failed inserts', () => {
  let t: TestTopics;
  let produced: Produced;
  let path: string;
  let clickhouse: ClickHouseClient;
  beforeAll(async () => {
    t = await testTopics(entry.kafka, 2);
    produced = await produce(t, 60);
    path = mkdtempSync(join(tmpdir(), 'shopstream-ch-'));
    clickhouse = createClickHouse({ url: entry.clickhouse.url, path, database: 'unused' });
  });
  afterAll(async () => {
    await clickhouse?.close();
    if (path) rmSync(path, { recursive: true, force: true });
    if (t) await deleteTopics(t.prefix);
  });

  const scenarios: { name: string; options: Partial<SinkOptions>; plan: [number, Fault][]; loseCommits?: (call: number) => boolean }[] = [
    {
      name: 'several ranges per fetch, retried in place',
      options: { maxBatchSize: 4, maxFetchRecords: 30 },
      plan: [[3, 'after'], [4, 'after'], [7, 'before'], [8, 'before'], [12, 'fatal'], [13, 'fatal-after'], [20, 'after'], [21, 'fatal']],
    },
    {
      name: 'ranges spanning several fetches, every failure read again from the committed offset',
      options: { maxBatchSize: 9, maxFetchRecords: 2, retryInPlaceMs: 0 },
      plan: [[2, 'after'], [3, 'after'], [5, 'before'], [6, 'fatal-after'], [7, 'after'], [9, 'fatal'], [10, 'before']],
    },
    {
      name: 'offset commits that never land (a stalled broker drops them), then restarts',
      options: { maxBatchSize: 5, maxFetchRecords: 12 },
      plan: [[6, 'fatal-after'], [11, 'fatal'], [17, 'fatal-after'], [24, 'fatal']],
      loseCommits: (call) => call % 3 !== 1,
    },
  ];

  /** A database of the test's own, migrated, with a way to count every row that arrived in it. */
  async function prepareDatabase(): Promise<string> {
    const database = `analytics_t${uniqueId()}`;
    await migrateClickHouse(clickhouse, database);
    // The latest-state tables fold an order's versions (and any duplicate) into one row, even
    // within an insert: plain views of them record every row that arrived, to count.
    for (const [source, columns] of [['orders', 'order_id UUID, version UInt64'], ['order_items', 'order_id UUID, version UInt64, line_no UInt16']] as const) {
      await clickhouse.command({ query: `CREATE TABLE ${database}.${source}_arrived (${columns}) ENGINE = MergeTree ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 10000` });
      await clickhouse.command({ query: `CREATE MATERIALIZED VIEW ${database}.${source}_arrived_mv TO ${database}.${source}_arrived AS SELECT ${columns.replace(/ \w+(,|$)/g, '$1')} FROM ${database}.${source}` });
    }
    await clickhouse.command({ query: `SYSTEM STOP MERGES ${database}.order_changes` });
    return database;
  }

  const rows = async (query: string) => (await clickhouse.query({ query, format: 'JSONEachRow' })).json<Record<string, string>>();
  const rowCount = (database: string) => async () =>
    Number((await rows(`SELECT (SELECT count() FROM ${database}.order_changes) + (SELECT count() FROM ${database}.orders_arrived) AS n`))[0]!.n);
  const cents = (amount: string) => Math.round(Number(amount) * 100);
  const changeKey = (id: string, version: number | string, sign: number | string) => `${id}/${version}/${sign}`;

  /** What every table and view holds, in a form to compare with `expectedOf(produced)`. */
  async function loaded(database: string) {
    const [hourly] = await rows(`SELECT sum(orders) AS orders, toString(sum(revenue)) AS revenue FROM ${database}.hourly_sales`);
    const [products] = await rows(`SELECT sum(units) AS units FROM ${database}.product_sales`);
    const [items] = await rows(`SELECT count() AS n FROM ${database}.order_items_arrived`);
    const byStatus = await rows(`SELECT key, sum(orders) AS orders FROM ${database}.dimension_sales WHERE dimension = 'status' GROUP BY key HAVING orders != 0 ORDER BY key`);
    return {
      changes: (await rows(`SELECT toString(order_id) AS id, version, sign FROM ${database}.order_changes`)).map((r) => changeKey(r.id!, r.version!, r.sign!)).sort(),
      states: (await rows(`SELECT toString(order_id) AS id, version FROM ${database}.orders_arrived`)).map((r) => `${r.id}/${r.version}`).sort(),
      items: Number(items!.n),
      hourly: { orders: Number(hourly!.orders), revenue: cents(hourly!.revenue!) },
      units: Number(products!.units),
      byStatus: byStatus.map((r) => [r.key!, Number(r.orders)] as [string, number]),
    };
  }

  /** Every committed record once, nothing of the aborted transactions; the views their sums. */
  function expectedOf(p: Produced): Awaited<ReturnType<typeof loaded>> {
    const counted = p.changes.filter((c) => c.counted);
    const byStatus = new Map<string, number>();
    for (const c of p.changes) if (!c.is_deleted) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + c.sign);
    return {
      changes: p.changes.map((c) => changeKey(c.order_id, c.version, c.sign)).sort(),
      states: p.enriched.map((r) => `${r.order_id}/${r.version}`).sort(),
      items: p.enriched.reduce((sum, r) => sum + r.items.length, 0),
      hourly: { orders: counted.reduce((sum, c) => sum + c.sign, 0), revenue: counted.reduce((sum, c) => sum + c.sign * cents(c.total_amount), 0) },
      units: counted.reduce((sum, c) => sum + c.sign * c.items.reduce((u, item) => u + item.quantity, 0), 0),
      byStatus: [...byStatus].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1)),
    };
  }

  for (const scenario of scenarios) {
    it(`loads every record once: ${scenario.name}`, async () => {
      const database = await prepareDatabase();
      const real = new ClickHouseAnalyticsWriter(clickhouse, database);
      const journal: string[] = [];
      const writer = new FaultyWriter(real, new Map(scenario.plan), journal);
      const expected = expectedOf(produced);
      const restoreCommits = scenario.loseCommits ? loseCommits(scenario.loseCommits, journal) : () => undefined;
      const { restarts } = await loadWithFaults(t, writer, real, scenario.options, expected.changes.length + expected.states.length, rowCount(database), journal).finally(
        restoreCommits,
      );
      expect(writer.calls).toBeGreaterThan(Math.max(...scenario.plan.map(([call]) => call)));
      const twice = overlaps(writer.landed);
      // On a failure, what the sinks did (the journal, topics shortened) says how a range came to load twice.
      const told = () => `ranges loaded twice: ${twice.join('; ') || 'none'}\n${journal.join('\n').replaceAll(t.prefix, '')}`;
      expect(await loaded(database), told()).toEqual(expected);
      expect(twice, told()).toEqual([]);
      // Every refusal stopped the sink once; its successor went on from where loading stood.
      expect(restarts).toBe(scenario.plan.filter(([, fault]) => fault.startsWith('fatal')).length);
    }, 180_000);
  }

  it('the ledger gives the range with the highest first offset, compared as a number, whatever order the writes landed in', async () => {
    const database = await prepareDatabase();
    const ledger = new ClickHouseAnalyticsWriter(clickhouse, database);
    const topic = t.topics.orderChanges;
    // Offsets of one digit, two and three (a text comparison puts '99' after '100' and '7' after '18'),
    // and late writes of older ranges.
    for (const [first, last] of [[7n, 16n], [0n, 6n], [18n, 19n], [100n, 104n], [99n, 99n]] as const) await ledger.recordRange(topic, 1, first, last);
    await ledger.recordRange(topic, 0, 5n, 9n);
    expect(await ledger.lastRange(topic, 1)).toEqual({ first: 100n, last: 104n });
    expect(await ledger.lastRange(topic, 0)).toEqual({ first: 5n, last: 9n });
    expect(await ledger.lastRange(topic, 2)).toBeUndefined();
  });

  it('negative control: a sink that loads a range again under another token is caught by the same check', async () => {
    const database = await prepareDatabase();
    const real = new ClickHouseAnalyticsWriter(clickhouse, database);
    // Broken on purpose: the 5th insert is sent twice, the second time under a token of its own.
    let calls = 0;
    const broken: AnalyticsWriter = {
      writeOrders: async (records, token) => {
        await real.writeOrders(records, token);
        if (++calls === 5) await real.writeOrders(records, `${token}-again`);
      },
      writeChanges: async (records, token) => {
        await real.writeChanges(records, token);
        if (++calls === 5) await real.writeChanges(records, `${token}-again`);
      },
      writeProducts: (records, token) => real.writeProducts(records, token),
      writeCanary: (records, token) => real.writeCanary(records, token),
    };
    const expected = expectedOf(produced);
    await loadWithFaults(t, new FaultyWriter(broken, new Map()), real, { maxBatchSize: 7 }, expected.changes.length + expected.states.length + 1, rowCount(database));
    const found = await loaded(database);
    expect(found).not.toEqual(expected);
    expect(found.changes.length + found.states.length).toBeGreaterThan(expected.changes.length + expected.states.length);
  }, 180_000);
});
