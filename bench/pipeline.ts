import { Agent, request } from 'node:http';
import { startPipeline } from '../cli/pipeline.js';
import { mysqlOrderStore } from '../mysql/order-store.js';
import { createProduct, registerUser } from '../orders/catalog-service.js';
import { benchEnv, memorySampler, percentile, round } from './common.js';

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

/**
 * The whole pipeline in one process: `orders` orders through the API at `rate`/s, then until
 * every accepted order is queryable. Commit → queryable latency comes from each change row's
 * outbox commit time and its ClickHouse ingestion time (exact, not sampled by polling).
 */
export async function pipelineBench(args: { orders: number; rate: number; concurrency: number }) {
  const env = await benchEnv();
  const pipeline = await startPipeline({
    roles: ['api', 'relay', 'streams', 'sink'],
    mysql: { url: env.databaseUrl, connectionLimit: 32 },
    kafka: env.entry.kafka,
    registryUrl: env.entry.registryUrl,
    clickhouse: { url: env.entry.clickhouse.url, path: env.clickhousePath, database: `bench_${env.id}` },
    topicPrefix: env.topicPrefix,
    topicLayout: { partitions: 6, replicationFactor: 1 },
    groupPrefix: `bench${env.id}`,
    httpPort: 0,
    httpHost: '127.0.0.1',
    seedDemo: false,
    writeRateLimit: { perSecond: 0, burst: 0 },
  });
  const memory = memorySampler();
  try {
    const deps = { store: mysqlOrderStore(pipeline.pool!), signal: pipeline.relay };
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => registerUser(deps, { email: `bench${i}@example.com`, name: `Bench ${i}` })));
    const products = [];
    for (let i = 0; i < 20; i++) {
      products.push((await createProduct(deps, { sku: `B-${i}`, name: `Bench ${i}`, category: `C${i % 4}`, price: `${(i + 1) * 3}.99`, currency: 'USD', initialStock: 10_000_000 })).product);
    }

    const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
    const latencies: number[] = [];
    let failures = 0;
    const intervalMs = 1000 / args.rate;
    const started = performance.now();
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < args.orders; i++) {
      const wait = started + i * intervalMs - performance.now();
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
      const call: Promise<void> = postJson(agent, `${pipeline.url}/api/orders`, body)
        .then((status) => {
          if (status === 201) latencies.push(performance.now() - t0);
          else failures++;
        })
        .catch(() => void failures++)
        .finally(() => {
          inFlight--;
          pending.delete(call);
        });
      pending.add(call);
    }
    await Promise.all(pending);
    const sendSeconds = (performance.now() - started) / 1000;
    const accepted = latencies.length;

    const db = `bench_${env.id}`;
    const deadline = Date.now() + 300_000;
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
    agent.destroy();
    return {
      params: args,
      ordersAccepted: accepted,
      ordersFailed: failures,
      ordersVisibleInClickHouse: visible,
      apiOrdersPerSecond: round(accepted / sendSeconds),
      pipelineOrdersPerSecond: round(visible / drainedSeconds),
      apiLatencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) },
      commitToQueryableMs: { p50: round(e2e.p50, 1), p99: round(e2e.p99, 1), max: round(e2e.max, 1) },
      peakRssMiB: memory.stop(),
    };
  } finally {
    await pipeline.stop();
    await env.cleanup();
  }
}
