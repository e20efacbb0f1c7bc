import { describe, expect, it } from 'vitest';
import { waitFor } from '../../core/retry.js';
import { partitionOf } from '../../canary/model.js';
import { mysqlOrderStore } from '../../mysql/order-store.js';
import { useIsolatedPipeline } from '../support/pipeline.js';
import { unpublishedCount } from '../support/relay.js';
import { driftOf } from '../support/truth.js';
import { runWorkload } from '../support/workload.js';

const DAYS = 3;
const INTERVAL_MS = 500;

/** Histogram series of the process's /metrics: count, sum and cumulative buckets, per label set. */
async function histogram(url: string, name: string, labels = ''): Promise<{ count: number; sum: number; buckets: [number, number][] }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (suffix: string, extra = '') => {
    const selector = [labels, extra].filter(Boolean).join(',');
    const line = text.split('\n').find((l) => l.startsWith(`${name}${suffix}${selector ? `{${selector}}` : ''} `));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))]
    .filter((m) => !labels || m[1]!.split(',').includes(labels))
    .map((m) => {
      const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
      return [le === '+Inf' ? Infinity : Number(le), Number(m[2])] as [number, number];
    });
  return { count: value('_count') ?? 0, sum: value('_sum') ?? 0, buckets };
}

/** The upper bound of the bucket holding the median (what histogram_quantile interpolates within). */
function medianBucket(h: { count: number; buckets: [number, number][] }): number {
  return h.buckets.find(([, cumulative]) => cumulative >= h.count / 2)![0];
}

async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

async function readyz(url: string): Promise<{ status: number; checks: { name: string; ok: boolean; detail?: string }[] }> {
  const response = await fetch(`${url}/readyz`);
  const body = (await response.json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
  return { status: response.status, checks: body.checks };
}

/**
 * The canary and the end-to-end stages on the real pipeline (MariaDB → relay → Kafka → streams →
 * sink → ClickHouse, one process): heartbeats every 500 ms, lost after 4 s, /readyz not ready
 * when the newest is older than 3 s.
 */
describe('the canary through the whole pipeline', () => {
  const isolated = useIsolatedPipeline(['api', 'relay', 'streams', 'sink'], {
    canary: { intervalMs: INTERVAL_MS, lostAfterMs: 4_000, staleAfterMs: 3_000, pollMs: 100 },
    restart: { initialDelayMs: 200, maxDelayMs: 1_000 },
  });
  const url = () => isolated.pipeline.url!;

  it('measures its round trip, rotating over the partitions, and reports freshness from it', async () => {
    const trips = await waitFor(async () => {
      const h = await histogram(url(), 'shopstream_canary_round_trip_seconds');
      return h.count >= 6 ? h : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, describe: 'six canary round trips' });
    // Relay, a stream transaction (100 ms), two inserts: well under a few seconds, never 0.
    expect(trips.sum / trips.count).toBeGreaterThan(0.005);
    expect(trips.sum / trips.count).toBeLessThan(5);
    expect(await counter(url(), 'shopstream_canary_emitted_total')).toBeGreaterThanOrEqual(trips.count);
    expect(await counter(url(), 'shopstream_canary_lost_total')).toBe(0);
    expect(await counter(url(), 'shopstream_canary_age_seconds')).toBeLessThan(3);

    // Each heartbeat was read by the streams from the partition its key was chosen for, and they went round all of them.
    const db = isolated.config.clickhouse.database;
    const arrived = await (
      await isolated.pipeline.clickhouse!.query({ query: `SELECT toString(heartbeat_id) AS id, partition FROM ${db}.pipeline_canary`, format: 'JSONEachRow' })
    ).json<{ id: string; partition: number }>();
    const [emitted] = (await isolated.pipeline.pool!.query('SELECT id, kafka_partition FROM canary_heartbeats')) as unknown as [{ id: string; kafka_partition: number }[]];
    const intended = new Map(emitted.map((row) => [row.id, Number(row.kafka_partition)]));
    expect(arrived.length).toBeGreaterThanOrEqual(6);
    for (const row of arrived) {
      expect(Number(row.partition), row.id).toBe(intended.get(row.id));
      expect(partitionOf(row.id, isolated.config.topicLayout.partitions)).toBe(Number(row.partition));
    }
    expect(new Set(arrived.map((row) => Number(row.partition))).size).toBe(isolated.config.topicLayout.partitions);

    const health = (await (await fetch(`${url()}/api/analytics/health`)).json()) as { reachable: boolean; freshnessSeconds: number; newestHeartbeatAt: string };
    expect(health.reachable).toBe(true);
    expect(health.freshnessSeconds).toBeGreaterThan(0);
    expect(health.freshnessSeconds).toBeLessThan(3);
    expect((await readyz(url())).status).toBe(200);
  }, 90_000);

  it('times every stage from the outbox commit, kafka ≤ clickhouse, and changes no sales figure', async () => {
    const deps = { store: mysqlOrderStore(isolated.pipeline.pool!), signal: isolated.pipeline.relay };
    const workload = await runWorkload(deps, { operations: 300, seed: 20261203, days: DAYS, concurrency: 4 });
    await waitFor(async () => ((await unpublishedCount(isolated.pipeline.pool!)) === 0 ? true : undefined), { timeoutMs: 60_000, describe: 'the outbox drained' });
    const drift = await waitFor(
      async () => {
        const found = await driftOf(isolated.pipeline.pool!, isolated.pipeline.clickhouse!, isolated.config.clickhouse.database, workload.users, DAYS);
        return found.length === 0 ? found : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, describe: 'zero drift with the canary running' },
    );
    expect(drift).toEqual([]);

    const stage = (name: string) => histogram(url(), 'shopstream_e2e_latency_seconds', `stage="${name}"`);
    const [kafka, streams, clickhouse] = [await stage('kafka'), await stage('streams'), await stage('clickhouse')];
    // Every outbox event reaches Kafka; the streams see orders, payments and heartbeats; the sink
    // loads the derived rows (one enriched and two signed per order change) and the heartbeats.
    expect(kafka.count).toBeGreaterThan(workload.orders);
    expect(streams.count).toBeGreaterThan(workload.orders);
    expect(clickhouse.count).toBeGreaterThan(workload.orders);
    for (const h of [kafka, streams, clickhouse]) expect(h.sum).toBeGreaterThan(0);
    expect(medianBucket(clickhouse)).toBeGreaterThanOrEqual(medianBucket(kafka));
    expect(medianBucket(streams)).toBeGreaterThanOrEqual(medianBucket(kafka));
    expect(clickhouse.sum / clickhouse.count).toBeGreaterThan(kafka.sum / kafka.count);
  }, 300_000);

  it('detects its loss while the sink is stopped: lost counted, /readyz 503 (canary); ready again once the sink runs', async () => {
    const before = await histogram(url(), 'shopstream_canary_round_trip_seconds');
    // On a loaded machine a heartbeat may have been lost before: only losses from here count.
    const lostBefore = await counter(url(), 'shopstream_canary_lost_total');
    await isolated.pipeline.pauseRole('sink');
    try {
      const lost = await waitFor(async () => {
        const n = await counter(url(), 'shopstream_canary_lost_total');
        return n > lostBefore ? n : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200, describe: 'a lost canary heartbeat' });
      expect(lost).toBeGreaterThan(lostBefore);
      // The watcher looks again at its poll interval: the check turns not ok then.
      const notReady = await waitFor(async () => {
        const r = await readyz(url());
        return r.checks.find((c) => c.name === 'canary')?.ok === false ? r : undefined;
      }, { timeoutMs: 10_000, intervalMs: 200, describe: '/readyz naming the canary' });
      expect(notReady.status).toBe(503);
      const check = notReady.checks.find((c) => c.name === 'canary');
      expect(check?.ok).toBe(false);
      expect(check?.detail).toMatch(/the newest canary heartbeat in ClickHouse was emitted [\d.]+ s ago \(limit 3 s\)/);
      expect(await counter(url(), 'shopstream_canary_age_seconds')).toBeGreaterThan(3);
    } finally {
      await isolated.pipeline.resumeRole('sink');
    }
    const ready = await waitFor(async () => {
      const r = await readyz(url());
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, describe: '/readyz ready again' });
    expect(ready.checks.find((c) => c.name === 'canary')).toEqual({ name: 'canary', ok: true });
    // The heartbeats held back arrived late: timed (long round trips), each still counted lost once.
    const after = await histogram(url(), 'shopstream_canary_round_trip_seconds');
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.sum - before.sum).toBeGreaterThan(4);
  }, 120_000);
});
