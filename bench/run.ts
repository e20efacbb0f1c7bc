import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { configFromEnv } from '../cli/config.js';
import { startPipeline } from '../cli/pipeline.js';
import { setLogLevel } from '../core/log.js';
import { createKafka } from '../kafka/client.js';
import { topicNames } from '../kafka/topics.js';
import { mysqlOrderStore } from '../mysql/order-store.js';
import { createProduct, registerUser } from '../orders/catalog-service.js';

/**
 * `npm run bench`: pushes N orders through the API at a set rate into an isolated pipeline (own
 * database, topics and ClickHouse folder; the user's data is untouched) and reports throughput,
 * API latency and commit → queryable latency. Figures are printed and written to bench/results/.
 */
interface Args {
  orders: number;
  rate: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string, fallback: number) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? Number(argv[index + 1]) : fallback;
  };
  return { orders: get('--orders', 5_000), rate: get('--rate', 500), concurrency: get('--concurrency', 64) };
}

/** POSTs JSON over a keep-alive agent (cheaper per request than fetch, which shares this process's CPU). */
function postJson(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  setLogLevel('warn');
  const args = parseArgs(process.argv.slice(2));
  const entry = configFromEnv();
  const id = randomBytes(4).toString('hex');
  const dbName = `${new URL(entry.mysql.url).pathname.slice(1)}_bench_${id}`;
  const server = new URL(entry.mysql.url);
  server.pathname = '/';
  const admin = await mysql.createConnection({ uri: server.toString() });
  await admin.query(`CREATE DATABASE \`${dbName}\``);
  const dbUrl = new URL(entry.mysql.url);
  dbUrl.pathname = `/${dbName}`;
  const chPath = mkdtempSync(join(tmpdir(), 'shopstream-bench-'));
  const prefix = `bench${id}.`;

  console.log(`bench: ${args.orders} orders at ${args.rate}/s (concurrency ${args.concurrency}); isolated pipeline ${prefix}*`);
  const pipeline = await startPipeline({
    roles: ['api', 'relay', 'streams', 'sink'],
    mysql: { url: dbUrl.toString(), connectionLimit: 32 },
    kafka: entry.kafka,
    registryUrl: entry.registryUrl,
    clickhouse: { url: entry.clickhouse.url, path: chPath, database: `bench_${id}` },
    topicPrefix: prefix,
    topicLayout: { partitions: 6, replicationFactor: 1 },
    groupPrefix: `bench${id}`,
    httpPort: 0,
    httpHost: '127.0.0.1',
    seedDemo: false,
    writeRateLimit: { perSecond: 0, burst: 0 },
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  try {
    const deps = { store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay };
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => registerUser(deps, { email: `bench${i}@example.com`, name: `Bench ${i}` })));
    const products = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const created = await createProduct(deps, { sku: `B-${i}`, name: `Bench ${i}`, category: `C${i % 4}`, price: `${(i + 1) * 3}.99`, currency: 'USD', initialStock: 10_000_000 });
        return created.product;
      }),
    );

    const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
    const latencies: number[] = [];
    let failures = 0;
    const intervalMs = 1000 / args.rate;
    const started = performance.now();
    let inFlight = 0;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < args.orders; i++) {
      const due = started + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      while (inFlight >= args.concurrency) await Promise.race(pending);
      inFlight++;
      const body = JSON.stringify({
        userId: users[i % users.length]!.id,
        items: [
          { productId: products[i % products.length]!.id, quantity: 1 + (i % 3) },
          { productId: products[(i * 7) % products.length]!.id, quantity: 1 },
        ],
      });
      const t0 = performance.now();
      const request = postJson(agent, `${pipeline.url}/api/orders`, body)
        .then((status) => {
          if (status === 201) latencies.push(performance.now() - t0);
          else failures++;
        })
        .catch(() => void failures++)
        .finally(() => {
          inFlight--;
          pending.splice(pending.indexOf(request), 1);
        });
      pending.push(request);
    }
    await Promise.all(pending);
    const sendSeconds = (performance.now() - started) / 1000;
    const accepted = latencies.length;

    // Wait until every accepted order is queryable, then read the exact per-row latencies.
    const db = `bench_${id}`;
    const deadline = Date.now() + 120_000;
    let visible = 0;
    while (Date.now() < deadline) {
      const r = await pipeline.clickhouse!.query({ query: `SELECT sum(orders) AS n FROM ${db}.daily_sales`, format: 'JSONEachRow' });
      visible = Number(((await r.json()) as { n: string }[])[0]?.n ?? 0);
      if (visible >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const drainedSeconds = (performance.now() - started) / 1000;
    const q = await pipeline.clickhouse!.query({
      query: `SELECT quantileExact(0.5)(d) AS p50, quantileExact(0.99)(d) AS p99, max(d) AS max
              FROM (SELECT dateDiff('microsecond', committed_at, ingested_at) / 1000 AS d FROM ${db}.order_changes)`,
      format: 'JSONEachRow',
    });
    const e2e = ((await q.json()) as { p50: number; p99: number; max: number }[])[0]!;
    latencies.sort((a, b) => a - b);

    const result = {
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      params: args,
      ordersAccepted: accepted,
      ordersFailed: failures,
      ordersVisibleInClickHouse: visible,
      apiOrdersPerSecond: round(accepted / sendSeconds),
      pipelineOrdersPerSecond: round(visible / drainedSeconds),
      apiLatencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) },
      commitToQueryableMs: { p50: round(e2e.p50, 1), p99: round(e2e.p99, 1), max: round(e2e.max, 1) },
      peakRssMiB: round(peakRss / 2 ** 20, 0),
    };
    console.log(JSON.stringify(result, null, 2));
    const dir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written to ${file}`);
  } finally {
    clearInterval(sampler);
    await pipeline.stop();
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    rmSync(chPath, { recursive: true, force: true });
    const kafkaAdmin = createKafka(entry.kafka).admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: Object.values(topicNames(prefix)) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
