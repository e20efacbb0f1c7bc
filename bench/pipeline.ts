import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createToken } from '../auth/tokens.js';
import { startPipeline } from '../cli/pipeline.js';
import { NAMED_MIXES, type LoadSummary } from '../load/load.js';
import { mysqlAdminStore } from '../mysql/admin-store.js';
import type { LoadClientJob } from './load-client.js';
import { benchEnv, memorySampler, round } from './common.js';

/** Runs bench/load-client.ts (the `shopstream load` generator) in a process of its own; resolves to its summary. */
function runLoadClient(job: LoadClientJob): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./load-client.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (result: { summary?: LoadSummary; error?: string }) => (result.summary ? resolve(result.summary) : reject(new Error(`load client: ${result.error}`))));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`load client exited with ${code}`))));
    child.send(job);
  });
}

/**
 * The whole pipeline in one process, loaded through the API by the `shopstream load` generator
 * (users and products created through the API first, not timed): `requests` requests offered at
 * `rate`/s with the `mix` (`orders`: order placement only, what the SPEC's orders/s count;
 * `shop`: the shop mix of load/mix.ts), then until ClickHouse holds the newest version of every
 * order MySQL holds. Commit → queryable latency comes from each change row's outbox commit time
 * and its ClickHouse ingestion time (exact, not sampled by polling).
 */
/** `orders`: requests offered (with the `orders` mix, every one places an order). */
export async function pipelineBench(args: { orders: number; rate: number; concurrency: number; mix?: 'orders' | 'shop' }) {
  const mix = args.mix ?? 'orders';
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
    const { token } = await createToken(mysqlAdminStore(pipeline.pool!), { name: 'bench-load', role: 'admin' });
    const load = await runLoadClient({
      url: pipeline.url!,
      adminToken: token,
      rate: args.rate,
      requests: args.orders,
      concurrency: args.concurrency,
      mix: NAMED_MIXES[mix],
      users: 500,
      products: 100,
      seed: 20261124,
    });
    const loadEndedAt = performance.now();
    const created = load.orders.created;
    const failures = load.operations.create.errors + load.operations.create.refused;
    const db = `bench_${env.id}`;
    // Drained: ClickHouse holds the newest version of every order MySQL holds (every version's
    // row is kept in `orders`, deletes included, until its TTL).
    const [[truth]] = (await pipeline.pool!.query('SELECT COUNT(*) AS n, COALESCE(SUM(version), 0) AS v FROM orders')) as unknown as [[{ n: number; v: string }]];
    const deadline = Date.now() + 300_000;
    let visible = 0;
    while (Date.now() < deadline) {
      const r = await pipeline.clickhouse!.query({ query: `SELECT count() AS n, sum(v) AS v FROM (SELECT order_id, max(version) AS v FROM ${db}.orders GROUP BY order_id)`, format: 'JSONEachRow' });
      const row = ((await r.json()) as { n: string; v: string }[])[0];
      visible = Number(row?.n ?? 0);
      if (visible >= Number(truth!.n) && Number(row?.v ?? 0) >= Number(truth!.v)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // From the first request (the setup before it is not timed) until drained.
    const drainedSeconds = load.seconds + (performance.now() - loadEndedAt) / 1000;
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
      params: { ...args, mix },
      requests: { sent: load.requests.sent, ok: load.requests.ok, refused: load.requests.refused, errors: load.requests.errors },
      ordersAccepted: created,
      ordersFailed: failures,
      ordersVisibleInClickHouse: visible,
      apiRequestsPerSecond: load.achievedRate,
      apiOrdersPerSecond: round(created / load.seconds),
      pipelineOrdersPerSecond: round(visible / drainedSeconds),
      // Order placement (POST /api/orders), as the bench measured before the generator; all requests beside it.
      apiLatencyMs: { p50: round(load.operations.create.latencyMs.p50, 2), p99: round(load.operations.create.latencyMs.p99, 2) },
      apiLatencyAllRequestsMs: { p50: round(load.latencyMs.p50, 2), p99: round(load.latencyMs.p99, 2) },
      ...(mix === 'orders' ? {} : { operations: Object.fromEntries(Object.entries(load.operations).map(([name, o]) => [name, { ok: o.ok, refused: o.refused, errors: o.errors }])) }),
      commitToQueryableMs: { p50: round(e2e.p50, 1), p99: round(e2e.p99, 1), max: round(e2e.max, 1) },
      peakRssMiB: memory.stop(),
    };
  } finally {
    await pipeline.stop();
    await env.cleanup();
  }
}
