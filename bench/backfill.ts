import { randomUUID } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { startPipeline } from '../cli/pipeline.js';
import { mysqlSnapshotStore } from '../mysql/snapshot-store.js';
import { expectedRecords } from '../replay/manifest.js';
import { Snapshot } from '../snapshot/snapshot.js';
import { benchEnv, memorySampler, round } from './common.js';

/**
 * Backfills: a database filled by SQL with `orders` orders the pipeline never saw (2 lines each,
 * 3 in 5 paid, over 1,000 users and 100 products), then
 * - `snapshot`: rows and events written to the outbox per second;
 * - catch-up: from the snapshot's start until ClickHouse holds every order (relay, streams, sink);
 * - `replay` of every table from Kafka into the shadow (records loaded per second; not swapped).
 */
export async function backfillBench(args: { orders: number }) {
  const env = await benchEnv();
  const db = `bench_${env.id}`;
  const pipeline = await startPipeline({
    roles: ['api', 'relay', 'streams', 'sink'],
    mysql: { url: env.databaseUrl, connectionLimit: 16 },
    kafka: env.entry.kafka,
    registryUrl: env.entry.registryUrl,
    clickhouse: { url: env.entry.clickhouse.url, path: env.clickhousePath, database: db },
    topicPrefix: env.topicPrefix,
    topicLayout: { partitions: 3, replicationFactor: 1, derivedPartitions: env.entry.topicLayout.derivedPartitions },
    groupPrefix: `bench${env.id}`,
    httpPort: 0,
    httpHost: '127.0.0.1',
    seedDemo: false,
    writeRateLimit: { perSecond: 0, burst: 0 },
    canary: { intervalMs: 0 },
  });
  const memory = memorySampler();
  try {
    const pool = pipeline.pool!;
    console.log(`backfill: filling MySQL with ${args.orders.toLocaleString()} orders by SQL`);
    await fill(pool, args.orders);

    const snapshotStarted = performance.now();
    const run = await new Snapshot(mysqlSnapshotStore(pool)).run();
    const snapshotSeconds = (performance.now() - snapshotStarted) / 1000;
    const rows = run.progress.reduce((sum, p) => sum + p.rows, 0);
    const events = run.progress.reduce((sum, p) => sum + p.events, 0);
    console.log(`backfill: snapshot wrote ${events.toLocaleString()} events in ${snapshotSeconds.toFixed(1)} s; waiting for ClickHouse`);

    const deadline = Date.now() + 900_000;
    let visible = 0;
    while (Date.now() < deadline && visible < args.orders) {
      const result = await pipeline.clickhouse!.query({ query: `SELECT uniqExact(order_id) AS n FROM ${db}.orders`, format: 'JSONEachRow' });
      visible = Number(((await result.json()) as { n: string }[])[0]?.n ?? 0);
      if (visible < args.orders) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const caughtUpSeconds = (performance.now() - snapshotStarted) / 1000;

    console.log('backfill: replaying every table from Kafka into the shadow');
    const opened = await pipeline.openReplay();
    let replay;
    try {
      const manifest = await opened.replay.plan();
      const replayStarted = performance.now();
      await opened.replay.start(manifest);
      const replaySeconds = (performance.now() - replayStarted) / 1000;
      const records = Number(expectedRecords(manifest));
      replay = { records, seconds: round(replaySeconds), recordsPerSecond: round(records / replaySeconds) };
      await opened.replay.cleanup();
    } finally {
      await opened.close();
    }
    return {
      params: args,
      snapshot: { rows, events, seconds: round(snapshotSeconds), rowsPerSecond: round(rows / snapshotSeconds), eventsPerSecond: round(events / snapshotSeconds) },
      catchUp: { ordersVisible: visible, secondsFromSnapshotStart: round(caughtUpSeconds), ordersPerSecond: round(visible / caughtUpSeconds) },
      replay,
      peakRssMiB: memory.stop(),
    };
  } finally {
    await pipeline.stop();
    await env.cleanup();
  }
}

/** Users, products with stock, orders with items, and payments, inserted directly (no events). */
async function fill(pool: Pool, orders: number): Promise<void> {
  const users = Array.from({ length: 1_000 }, (_, i) => [randomUUID(), `backfill-${i}@bench.test`, `Backfill ${i}`]);
  await pool.query('INSERT INTO users (id, email, name) VALUES ?', [users]);
  const products = Array.from({ length: 100 }, (_, i) => [randomUUID(), `BF-${i}`, `Backfill item ${i}`, `Cat ${i % 5}`, `${10 + i}.50`, 'USD']);
  await pool.query('INSERT INTO products (id, sku, name, category, price, currency) VALUES ?', [products]);
  await pool.query('INSERT INTO inventory (product_id, on_hand, reserved) VALUES ?', [products.map((p) => [p[0], 1_000_000, 0])]);
  const day = 86_400_000;
  for (let start = 0; start < orders; start += 2_000) {
    const orderRows = [];
    const items = [];
    const payments = [];
    for (let i = start; i < Math.min(orders, start + 2_000); i++) {
      const id = randomUUID();
      const a = products[i % products.length]!;
      const b = products[(i * 7 + 3) % products.length]!;
      const lineA = (Number(a[4]) * 1).toFixed(2);
      const lineB = (Number(b[4]) * 2).toFixed(2);
      const total = (Number(lineA) + Number(lineB)).toFixed(2);
      const paid = i % 5 < 3;
      const at = new Date(Date.now() - (i % 3) * day).toISOString().slice(0, 23).replace('T', ' ');
      orderRows.push([id, users[i % users.length]![0], paid ? 'PAID' : 'PENDING', total, 'USD', paid ? 2 : 1, at, at]);
      items.push([id, 1, a[0], 1, a[4], lineA], [id, 2, b[0], 2, b[4], lineB]);
      if (paid) payments.push([randomUUID(), id, 'CARD', 'CAPTURED', total, 'USD', 1, at]);
    }
    await pool.query('INSERT INTO orders (id, user_id, status, total_amount, currency, version, created_at, updated_at) VALUES ?', [orderRows]);
    await pool.query('INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price, line_total) VALUES ?', [items]);
    if (payments.length > 0) await pool.query('INSERT INTO payments (id, order_id, method, status, amount, currency, version, created_at) VALUES ?', [payments]);
  }
}
