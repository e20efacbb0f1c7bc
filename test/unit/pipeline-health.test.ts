import { describe, expect, it } from 'vitest';
import type { MetricSample, MetricsReader } from '../../metrics/metrics.js';
import { PrometheusMetrics } from '../../metrics/prometheus.js';
import { E2E_LATENCY } from '../../metrics/metrics.js';
import { histogramQuantile, PipelineHealth } from '../../monitoring/pipeline-health.js';

describe('histogramQuantile (as Prometheus estimates it)', () => {
  it('interpolates linearly inside the bucket holding the rank', () => {
    // 10 observations ≤ 0.1, 10 more ≤ 0.5, none above.
    const buckets = [
      { le: 0.1, count: 10 },
      { le: 0.5, count: 20 },
      { le: Infinity, count: 20 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05);
  });

  it('answers the largest finite bound for ranks in +Inf, and null without observations', () => {
    expect(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNull();
    expect(histogramQuantile(0.5, [])).toBeNull();
  });
});

/** The real Prometheus adapter, so the health is read from the very instruments /metrics renders. */
function instruments() {
  const metrics = new PrometheusMetrics();
  const values = { backlog: 0, parked: 0 };
  // Like the relay's: set when read.
  const backlog = metrics.gauge({ name: 'shopstream_outbox_backlog', help: 'b', collect: () => backlog.set(values.backlog) });
  const parked = metrics.gauge({ name: 'shopstream_outbox_parked', help: 'p', collect: () => parked.set(values.parked) });
  const g = {
    oldest: metrics.gauge({ name: 'shopstream_outbox_oldest_unpublished_age_seconds', help: 'o' }),
    lag: metrics.gauge({ name: 'shopstream_consumergroup_lag', help: 'l', labelNames: ['group', 'topic', 'partition'] }),
    maxLag: metrics.gauge({ name: 'shopstream_consumergroup_max_lag_seconds', help: 'm', labelNames: ['group'] }),
    status: metrics.gauge({ name: 'shopstream_consumergroup_status', help: 's', labelNames: ['group', 'status'] }),
    canaryAge: metrics.gauge({ name: 'shopstream_canary_age_seconds', help: 'a' }),
    lost: metrics.counter({ name: 'shopstream_canary_lost_total', help: 'l' }),
    roleUp: metrics.gauge({ name: 'shopstream_role_up', help: 'r', labelNames: ['role'] }),
    e2e: metrics.histogram(E2E_LATENCY),
  };
  g.roleUp.set(1, { role: 'sink' });
  for (const group of ['app-streams', 'app-sink']) {
    g.status.set(1, { group, status: 'OK' });
    g.maxLag.set(0, { group });
    for (const partition of [0, 1]) g.lag.set(0, { group, topic: 't', partition });
  }
  return { metrics, g, setBacklog: (n: number) => (values.backlog = n), setParked: (n: number) => (values.parked = n) };
}

describe('PipelineHealth', () => {
  it('reports the current values and is ok while every check passes', async () => {
    const { metrics, g } = instruments();
    g.canaryAge.set(1.5);
    g.lag.set(7, { group: 'app-sink', topic: 't', partition: 1 });
    g.maxLag.set(0.4, { group: 'app-sink' });
    const view = await new PipelineHealth(metrics).read();
    expect(view.status).toBe('ok');
    expect(view.outbox).toEqual({ backlog: 0, oldestAgeSeconds: 0, parked: 0 });
    expect(view.consumers).toEqual([
      { group: 'app-streams', stage: 'streams', status: 'OK', lagMessages: 0, lagSeconds: 0 },
      { group: 'app-sink', stage: 'sink', status: 'OK', lagMessages: 7, lagSeconds: 0.4 },
    ]);
    expect(view.freshness).toEqual({ canaryAgeSeconds: 1.5, lostInWindow: 0, roundTripP99Seconds: null });
    expect(view.roles).toEqual([{ role: 'sink', up: true }]);
    expect(view.checks.every((c) => c.ok)).toBe(true);
  });

  it.each([
    ['parked events', ({ setParked }: ReturnType<typeof instruments>) => setParked(1)],
    ['outbox backlog', ({ setBacklog }: ReturnType<typeof instruments>) => setBacklog(10_001)],
    ['outbox oldest', ({ g }: ReturnType<typeof instruments>) => g.oldest.set(61)],
    ['consumer sink', ({ g }: ReturnType<typeof instruments>) => (g.status.set(0, { group: 'app-sink', status: 'OK' }), g.status.set(1, { group: 'app-sink', status: 'STALL' }))],
    ['consumer streams', ({ g }: ReturnType<typeof instruments>) => g.maxLag.set(31, { group: 'app-streams' })],
    ['freshness', ({ g }: ReturnType<typeof instruments>) => g.canaryAge.set(61)],
    ['canary lost', ({ g }: ReturnType<typeof instruments>) => g.lost.inc()],
    ['role sink', ({ g }: ReturnType<typeof instruments>) => g.roleUp.set(0, { role: 'sink' })],
  ])('is degraded by %s (the alert rule’s condition)', async (name, breakIt) => {
    const setup = instruments();
    setup.g.canaryAge.set(1);
    const health = new PipelineHealth(setup.metrics);
    expect((await health.read()).status).toBe('ok');
    breakIt(setup);
    const view = await health.read();
    expect(view.status).toBe('degraded');
    expect(view.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([name]);
  });

  it('measures latency and lost heartbeats over the window, and degrades on latency only once it lasted', async () => {
    const { metrics, g } = instruments();
    let now = 1_000_000;
    const health = new PipelineHealth(metrics, { now: () => now, windowMs: 60_000, sampleMs: 5_000, thresholds: { e2eForSeconds: 120 } });
    // A burst long ago: slow, and a lost heartbeat.
    for (let i = 0; i < 100; i++) g.e2e.observe(30, { stage: 'clickhouse' });
    g.lost.inc();
    health.start();
    health.stop();
    await new Promise((resolve) => setImmediate(resolve));
    now += 61_000;
    for (let i = 0; i < 100; i++) g.e2e.observe(0.2, { stage: 'clickhouse' });
    let view = await health.read();
    const stage = view.latency.stages.find((s) => s.stage === 'clickhouse')!;
    expect(stage.count).toBe(100);
    expect(stage.p99Seconds).toBeLessThanOrEqual(0.25);
    expect(view.freshness!.lostInWindow).toBe(0);
    expect(view.latency.windowSeconds).toBe(61);
    expect(view.status).toBe('ok');

    // Slow now: shown at once, degraded only after e2eForSeconds.
    for (let i = 0; i < 100; i++) g.e2e.observe(5, { stage: 'clickhouse' });
    view = await health.read();
    expect(view.latency.stages.find((s) => s.stage === 'clickhouse')!.p99Seconds).toBeGreaterThan(2);
    expect(view.status).toBe('ok');
    now += 121_000;
    view = await health.read();
    expect(view.status).toBe('degraded');
    expect(view.checks.find((c) => !c.ok)!.name).toBe('commit → queryable');
  });

  it('leaves out the sections of roles this process does not run', async () => {
    const empty: MetricsReader = { read: async () => new Map<string, MetricSample[]>() };
    const view = await new PipelineHealth(empty).read();
    expect(view).toMatchObject({ status: 'ok', outbox: null, freshness: null, consumers: [], roles: [], checks: [] });
  });
});
