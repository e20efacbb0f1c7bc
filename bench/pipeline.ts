import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPipeline } from '../cli/pipeline.js';
import { mysqlOrderStore } from '../mysql/order-store.js';
import { createProduct, registerUser } from '../orders/catalog-service.js';
import { benchEnv, memorySampler, percentile, round } from './common.js';

/** Runs bench/load-client.ts in a process of its own and returns what it measured. */
function runLoadClient(job: { url: string; rate: number; concurrency: number; bodies: string[] }): Promise<{ latencies: number[]; failures: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./load-client.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (result) => resolve(result as { latencies: number[]; failures: number; seconds: number }));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`load client exited with ${code}`))));
    child.send(job);
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
    topicLayout: { partitions: 3, replicationFactor: 1, derivedPartitions: env.entry.topicLayout.derivedPartitions },
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
    const products: { id: string }[] = [];
    for (let i = 0; i < 20; i++) {
      products.push((await createProduct(deps, { sku: `B-${i}`, name: `Bench ${i}`, category: `C${i % 4}`, price: `${(i + 1) * 3}.99`, currency: 'USD', initialStock: 10_000_000 })).product);
    }

    const bodies = Array.from({ length: args.orders }, (_, i) =>
      JSON.stringify({
        userId: users[i % users.length]!.id,
        items: [
          { productId: products[i % products.length]!.id, quantity: 1 + (i % 3) },
          { productId: products[(i * 7) % products.length]!.id, quantity: 1 },
        ],
      }),
    );
    const started = performance.now();
    const load = await runLoadClient({ url: `${pipeline.url}/api/orders`, rate: args.rate, concurrency: args.concurrency, bodies });
    const latencies = load.latencies.sort((a, b) => a - b);
    const failures = load.failures;
    const sendSeconds = load.seconds;
    const accepted = latencies.length;

    const db = `bench_${env.id}`;
    const deadline = Date.now() + 300_000;
    let visible = 0;
    while (Date.now() < deadline) {
      const r = await pipeline.clickhouse!.query({ query: `SELECT sum(orders) AS n FROM ${db}.hourly_sales`, format: 'JSONEachRow' });
      visible = Number(((await r.json()) as { n: string }[])[0]?.n ?? 0);
      if (visible >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const drainedSeconds = (performance.now() - started) / 1000;
    const [[relayLat]] = (await pipeline.pool!.query("SELECT AVG(TIMESTAMPDIFF(MICROSECOND, created_at, published_at))/1000 AS avg_ms, MAX(TIMESTAMPDIFF(MICROSECOND, created_at, published_at))/1000 AS max_ms FROM outbox WHERE event_type = 'OrderCreated'")) as any;
    console.log('relay commit->published ms', relayLat);
    const text = await pipeline.metrics.render();
    for (const line of text.split('\n')) if (/^shopstream_(sink_insert_latency_seconds|sink_batch_size|streams_transactions_aborted|end_to_end_latency_seconds|relay_publish_latency_seconds)_(sum|count)|streams_transactions_aborted_total /.test(line)) console.log(line);
    const q = await pipeline.clickhouse!.query({
      query: `SELECT quantileExact(0.5)(d) AS p50, quantileExact(0.99)(d) AS p99, max(d) AS max
              FROM (SELECT dateDiff('microsecond', committed_at, ingested_at) / 1000 AS d FROM ${db}.order_changes)`,
      format: 'JSONEachRow',
    });
    const e2e = ((await q.json()) as { p50: number; p99: number; max: number }[])[0]!;
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
