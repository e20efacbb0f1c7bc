import type { PipelineHealthReader, PipelineHealthView } from '../api/ports.js';
import type { MetricSample, MetricsReader } from '../metrics/metrics.js';

/**
 * Thresholds of the checks; the defaults are those of the alert rules (prometheus/rules.yml),
 * applied to the current values (the rules' `for:` durations aside).
 */
export interface PipelineHealthThresholds {
  /** ShopstreamOutboxBacklogHigh. Default 10,000 rows. */
  outboxBacklog: number;
  /** ShopstreamOutboxOldestUnpublishedOld. Default 60 s. */
  outboxOldestAgeSeconds: number;
  /** ShopstreamConsumerLagHigh. Default 30 s. */
  consumerLagSeconds: number;
  /** ShopstreamCanarySlow. Default 60 s (the pipeline passes the canary's /readyz staleness, so the two agree). */
  canaryAgeSeconds: number;
  /** ShopstreamEndToEndLatencyHigh: p99 of commit → queryable over the window… Default 2 s. */
  e2eP99Seconds: number;
  /**
   * … for this long (sampled every `sampleMs`) before it counts, as the rule's `for:`: a burst
   * shorter than the window (a backlog caught up after a restart, the demo history) does not
   * degrade; stopped or lagging stages show at once in the other checks. Default 120 s.
   */
  e2eForSeconds: number;
}

export interface PipelineHealthOptions {
  /**
   * Window of the latency quantiles and of the lost heartbeats. Default 60 s: what the pipeline
   * does now (the alert rules look at 5 and 10 minutes and wait minutes before they fire; a
   * burst, such as the demo history loading, shows here for a minute).
   */
  windowMs: number;
  /** Interval at which the windowed instruments are sampled (after `start`). Default 5 s. */
  sampleMs: number;
  thresholds: PipelineHealthThresholds;
  /** Wall clock, epoch ms. */
  now: () => number;
}

export const DEFAULT_PIPELINE_HEALTH_THRESHOLDS: PipelineHealthThresholds = {
  outboxBacklog: 10_000,
  outboxOldestAgeSeconds: 60,
  consumerLagSeconds: 30,
  canaryAgeSeconds: 60,
  e2eP99Seconds: 2,
  e2eForSeconds: 120,
};

export const DEFAULT_PIPELINE_HEALTH_OPTIONS: PipelineHealthOptions = {
  windowMs: 60_000,
  sampleMs: 5_000,
  thresholds: DEFAULT_PIPELINE_HEALTH_THRESHOLDS,
  now: () => Date.now(),
};

/** Instruments whose change over the window is reported (cumulative: a histogram, a counter). */
const WINDOWED = ['shopstream_e2e_latency_seconds', 'shopstream_canary_round_trip_seconds', 'shopstream_canary_lost_total'] as const;
/** Instruments whose current value is reported. */
const CURRENT = [
  'shopstream_outbox_backlog',
  'shopstream_outbox_oldest_unpublished_age_seconds',
  'shopstream_outbox_parked',
  'shopstream_consumergroup_lag',
  'shopstream_consumergroup_max_lag_seconds',
  'shopstream_consumergroup_status',
  'shopstream_canary_age_seconds',
  'shopstream_role_up',
] as const;

type Samples = Map<string, MetricSample[]>;

/**
 * The pipeline's health from this process's own instruments, read through the same registry the
 * Prometheus adapter renders at /metrics (not by parsing its text). Current values are read at
 * each `read`; latency quantiles and lost heartbeats are the change since a sample taken about
 * `windowMs` earlier (like Prometheus's `rate(…[1m])`; shorter while the process is younger).
 *
 * Lifecycle: `start` samples the windowed instruments every `sampleMs` (an unref'd timer);
 * `stop` ends it. Without `start`, windows reach back to the process start.
 */
export class PipelineHealth implements PipelineHealthReader {
  private readonly options: PipelineHealthOptions;
  private readonly history: { at: number; samples: Samples }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  /** Since when the queryable p99 has been above its threshold (at the samples and reads). */
  private latencyHighSince: number | undefined;

  constructor(
    private readonly metrics: MetricsReader,
    options: Partial<Omit<PipelineHealthOptions, 'thresholds'>> & { thresholds?: Partial<PipelineHealthThresholds> } = {},
  ) {
    this.options = { ...DEFAULT_PIPELINE_HEALTH_OPTIONS, ...options, thresholds: { ...DEFAULT_PIPELINE_HEALTH_THRESHOLDS, ...options.thresholds } };
    this.startedAt = this.options.now();
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async read(): Promise<PipelineHealthView> {
    const now = this.options.now();
    const current = await this.metrics.read([...CURRENT, ...WINDOWED]);
    const baseline = this.baseline(now);
    const windowSeconds = (now - (baseline?.at ?? this.startedAt)) / 1000;
    const stages = latencyStages(current, baseline?.samples ?? new Map());
    return assessPipeline(current, baseline?.samples ?? new Map(), { windowSeconds, stages, highForSeconds: this.track(stages, now) }, this.options.thresholds, now);
  }

  private async sample(): Promise<void> {
    const at = this.options.now();
    const samples = await this.metrics.read(WINDOWED).catch(() => undefined);
    if (!samples) return;
    const baseline = this.baseline(at);
    this.track(latencyStages(samples, baseline?.samples ?? new Map()), at);
    this.history.push({ at, samples });
    // Keep the newest sample at least a window old (the baseline) and everything after it.
    while (this.history.length > 1 && this.history[1]!.at <= at - this.options.windowMs) this.history.shift();
  }

  /** How long the queryable p99 has been above its threshold (0: it is not). */
  private track(stages: LatencyStage[], now: number): number {
    const p99 = stages.find((s) => s.stage === 'clickhouse')?.p99Seconds ?? null;
    if (p99 === null || p99 <= this.options.thresholds.e2eP99Seconds) this.latencyHighSince = undefined;
    else this.latencyHighSince ??= now;
    return this.latencyHighSince === undefined ? 0 : (now - this.latencyHighSince) / 1000;
  }

  /** The newest sample at least a window old, else the oldest one. */
  private baseline(now: number): { at: number; samples: Samples } | undefined {
    let found = this.history[0];
    for (const entry of this.history) if (entry.at <= now - this.options.windowMs) found = entry;
    return found;
  }
}

type LatencyStage = PipelineHealthView['latency']['stages'][number];

/** Commit → stage latency over the window: the histogram's change between `baseline` and `current`. */
export function latencyStages(current: Samples, baseline: Samples): LatencyStage[] {
  return histogramDeltas(current, baseline, 'shopstream_e2e_latency_seconds', 'stage').map(({ key, buckets }) => ({
    stage: key,
    count: buckets.at(-1)?.count ?? 0,
    p50Seconds: histogramQuantile(0.5, buckets),
    p99Seconds: histogramQuantile(0.99, buckets),
  }));
}

/**
 * The health view from the instruments' values now (`current`) and at the start of the window
 * (`baseline`, empty: zero), with the latency over the window and how long its p99 has been
 * above the threshold. Pure.
 */
export function assessPipeline(
  current: Samples,
  baseline: Samples,
  latency: { windowSeconds: number; stages: LatencyStage[]; highForSeconds: number },
  thresholds: PipelineHealthThresholds,
  nowMs: number,
): PipelineHealthView {
  const { windowSeconds, stages } = latency;
  const checks: PipelineHealthView['checks'] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const value = (name: string) => current.get(name)?.[0]?.value;

  let outbox: PipelineHealthView['outbox'] = null;
  const backlog = value('shopstream_outbox_backlog');
  if (backlog !== undefined) {
    outbox = { backlog, oldestAgeSeconds: value('shopstream_outbox_oldest_unpublished_age_seconds') ?? 0, parked: value('shopstream_outbox_parked') ?? 0 };
    check('outbox backlog', outbox.backlog <= thresholds.outboxBacklog, `${outbox.backlog} unpublished (at most ${thresholds.outboxBacklog})`);
    check('outbox oldest', outbox.oldestAgeSeconds <= thresholds.outboxOldestAgeSeconds, `oldest unpublished ${round(outbox.oldestAgeSeconds)} s old (at most ${thresholds.outboxOldestAgeSeconds} s)`);
    check('parked events', outbox.parked === 0, `${outbox.parked} outbox events parked after repeated failures`);
  }

  const consumers = consumerGroups(current);
  for (const group of consumers) {
    const stopped = group.status === 'STALL' || group.status === 'STOP';
    check(
      `consumer ${group.stage}`,
      !stopped && group.lagSeconds <= thresholds.consumerLagSeconds,
      `${group.group}: ${group.status}, ${group.lagMessages} messages, ${round(group.lagSeconds)} s behind (at most ${thresholds.consumerLagSeconds} s)`,
    );
  }

  const queryable = stages.find((s) => s.stage === 'clickhouse');
  if (queryable && queryable.p99Seconds !== null) {
    const high = queryable.p99Seconds > thresholds.e2eP99Seconds;
    const detail = `p99 ${round(queryable.p99Seconds)} s over the last ${Math.round(windowSeconds)} s (at most ${thresholds.e2eP99Seconds} s`;
    check(
      'commit → queryable',
      latency.highForSeconds < thresholds.e2eForSeconds,
      high ? `${detail}; above it for ${Math.round(latency.highForSeconds)} s, degraded after ${thresholds.e2eForSeconds} s)` : `${detail})`,
    );
  }

  let freshness: PipelineHealthView['freshness'] = null;
  const canaryAge = value('shopstream_canary_age_seconds');
  if (canaryAge !== undefined) {
    const lostInWindow = Math.max(0, (value('shopstream_canary_lost_total') ?? 0) - (baseline.get('shopstream_canary_lost_total')?.[0]?.value ?? 0));
    const roundTrip = histogramDeltas(current, baseline, 'shopstream_canary_round_trip_seconds', undefined)[0];
    freshness = { canaryAgeSeconds: canaryAge, lostInWindow, roundTripP99Seconds: roundTrip ? histogramQuantile(0.99, roundTrip.buckets) : null };
    check('freshness', canaryAge <= thresholds.canaryAgeSeconds, `newest canary heartbeat queryable ${round(canaryAge)} s after its commit (at most ${thresholds.canaryAgeSeconds} s)`);
    check('canary lost', lostInWindow === 0, `${lostInWindow} heartbeats lost in the last ${Math.round(windowSeconds)} s`);
  }

  const roles = (current.get('shopstream_role_up') ?? []).map((s) => ({ role: String(s.labels.role), up: s.value === 1 }));
  for (const role of roles) check(`role ${role.role}`, role.up, role.up ? 'running' : 'not running (paused, or restarting after a failure)');

  return {
    status: checks.every((c) => c.ok) ? 'ok' : 'degraded',
    at: new Date(nowMs).toISOString(),
    checks,
    freshness,
    outbox,
    consumers,
    latency: { windowSeconds: Math.max(0, Math.round(windowSeconds)), stages },
    roles,
  };
}

function consumerGroups(current: Samples): PipelineHealthView['consumers'] {
  const groups = new Map<string, PipelineHealthView['consumers'][number]>();
  const entry = (group: string) => {
    let found = groups.get(group);
    if (!found) groups.set(group, (found = { group, stage: stageOf(group), status: 'OK', lagMessages: 0, lagSeconds: 0 }));
    return found;
  };
  for (const s of current.get('shopstream_consumergroup_status') ?? []) if (s.value === 1) entry(String(s.labels.group)).status = String(s.labels.status);
  for (const s of current.get('shopstream_consumergroup_lag') ?? []) entry(String(s.labels.group)).lagMessages += s.value;
  for (const s of current.get('shopstream_consumergroup_max_lag_seconds') ?? []) entry(String(s.labels.group)).lagSeconds = s.value;
  return [...groups.values()];
}

/** The pipeline's own groups are `<prefix>-streams` and `<prefix>-sink`. */
function stageOf(group: string): string {
  const suffix = group.slice(group.lastIndexOf('-') + 1);
  return suffix === 'streams' || suffix === 'sink' ? suffix : group;
}

export interface Bucket {
  /** Upper bound (Infinity for +Inf). */
  le: number;
  /** Cumulative count of observations ≤ le. */
  count: number;
}

/** Per value of `by` (one entry keyed '' without it), the buckets of `current` − `baseline`, by bound. */
function histogramDeltas(current: Samples, baseline: Samples, name: string, by: string | undefined): { key: string; buckets: Bucket[] }[] {
  const collect = (samples: MetricSample[] | undefined) => {
    const result = new Map<string, Map<number, number>>();
    for (const s of samples ?? []) {
      if (s.name !== `${name}_bucket`) continue;
      const key = by === undefined ? '' : String(s.labels[by]);
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      (result.get(key) ?? result.set(key, new Map()).get(key)!).set(le, s.value);
    }
    return result;
  };
  const now = collect(current.get(name));
  const then = collect(baseline.get(name));
  return [...now].map(([key, bounds]) => ({
    key,
    buckets: [...bounds]
      .map(([le, count]) => ({ le, count: Math.max(0, count - (then.get(key)?.get(le) ?? 0)) }))
      .sort((a, b) => a.le - b.le),
  }));
}

/**
 * The q-quantile of cumulative buckets as Prometheus's histogram_quantile estimates it: linear
 * within the bucket holding the rank (from 0 in the first one); in the +Inf bucket, the largest
 * finite bound. Null without observations.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lowerBound;
      if (bucket.count === lowerCount) return bucket.le;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / (bucket.count - lowerCount);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

const round = (seconds: number) => Math.round(seconds * 100) / 100;
