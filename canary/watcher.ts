import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { sleep } from '../core/retry.js';
import { noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { CanaryArrivals, HeartbeatLog } from './ports.js';

export interface CanaryWatcherOptions {
  /** The emitters' interval (for the default staleAfterMs). Default 5,000 ms. */
  intervalMs: number;
  /** Time between two looks at the analytics store. Default 250 ms. */
  pollMs: number;
  /** Time between two reads of what was emitted (MySQL). Default 1,000 ms. */
  emittedPollMs: number;
  /** A heartbeat not in the analytics store this long after its emit time is lost. Default 60,000 ms. */
  lostAfterMs: number;
  /** /readyz turns not ready when the newest heartbeat seen was emitted longer ago. Default 3 × intervalMs + 10 s. */
  staleAfterMs: number | undefined;
  /** Wall clock, epoch ms. */
  now: () => number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_CANARY_WATCHER_OPTIONS: CanaryWatcherOptions = {
  intervalMs: 5_000,
  pollMs: 250,
  emittedPollMs: 1_000,
  lostAfterMs: 60_000,
  staleAfterMs: undefined,
  now: () => Date.now(),
  metrics: noopMetrics,
  logger: createLogger('canary'),
};

export const CANARY_ROUND_TRIP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/**
 * Watches the heartbeats arrive in the analytics store. Every pollMs it reads the heartbeats
 * emitted in the last 2 × lostAfterMs that are queryable there (at once when `poke`d: the sink of
 * this process inserted some); each one seen for the first time is a round trip, seen − emitted
 * (shopstream_canary_round_trip_seconds). Those already there at its first look arrived
 * before it started and are not timed. Every emittedPollMs it reads what every emitter wrote
 * (MySQL); a heartbeat not seen lostAfterMs after its emit time counts as lost, once
 * (shopstream_canary_lost_total), and is timed if it turns up later.
 *
 * The canary's age is now − the emit time of the newest heartbeat seen
 * (shopstream_canary_age_seconds; before the first, the time since the watcher started):
 * everything committed before that emit time, on its partition, is queryable.
 * `readiness()` fails while it exceeds staleAfterMs. A look that fails is logged and retried at
 * the next poll; the age goes on growing meanwhile.
 *
 * Lifecycle: `start` begins polling; `stop` ends it once the poll in flight finished.
 */
export class CanaryWatcher {
  private readonly options: CanaryWatcherOptions & { staleAfterMs: number };
  private readonly startedAt: number;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private poked = false;
  private looked = false;
  private lastEmittedRead = Number.NEGATIVE_INFINITY;
  private failures = 0;
  /** Heartbeats seen, by id (emit time), within the window. */
  private readonly seen = new Map<string, number>();
  /** Heartbeats emitted and not yet seen, by id; `lost` once counted. */
  private readonly pending = new Map<string, { emittedAt: number; lost: boolean }>();
  private newest: { emittedAt: number; seenAt: number } | undefined;
  private readonly instruments;

  constructor(
    private readonly arrivals: CanaryArrivals,
    private readonly emitted: HeartbeatLog,
    options: Partial<CanaryWatcherOptions> = {},
  ) {
    const merged = { ...DEFAULT_CANARY_WATCHER_OPTIONS, ...options };
    this.options = { ...merged, staleAfterMs: merged.staleAfterMs ?? 3 * merged.intervalMs + 10_000 };
    this.startedAt = this.options.now();
    const metrics = this.options.metrics;
    const age = metrics.gauge({
      name: 'shopstream_canary_age_seconds',
      help: 'Now − emit time of the newest canary heartbeat seen in ClickHouse (before the first: time since the watcher started)',
      collect: () => age.set(this.ageMs() / 1000),
    });
    const lastSeen = metrics.gauge({
      name: 'shopstream_canary_last_seen_timestamp_seconds',
      help: 'When the newest canary heartbeat (by emit time) was first seen in ClickHouse, unix seconds; 0 before the first',
      collect: () => lastSeen.set(this.newest ? this.newest.seenAt / 1000 : 0),
    });
    this.instruments = {
      roundTrip: metrics.histogram({
        name: 'shopstream_canary_round_trip_seconds',
        help: 'Canary heartbeat from its outbox commit to first seen in ClickHouse',
        buckets: CANARY_ROUND_TRIP_BUCKETS,
      }),
      lost: metrics.counter({ name: 'shopstream_canary_lost_total', help: 'Canary heartbeats not seen in ClickHouse within their deadline' }),
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
  }

  /** Something was inserted into the canary's table: look now rather than at the next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** The canary's age past which `readiness()` fails, ms. */
  get staleAfterMs(): number {
    return this.options.staleAfterMs;
  }

  /** Now − emit time of the newest heartbeat seen (or − the watcher's start, before the first), ms. */
  ageMs(): number {
    return Math.max(0, this.options.now() - (this.newest ? this.newest.emittedAt / 1000 : this.startedAt));
  }

  /** A readiness check (shape of api/ports ReadinessCheck): not ready while the canary is older than staleAfterMs. */
  readiness(): () => Promise<{ name: string; ok: boolean; detail?: string }> {
    return async () => {
      const age = this.ageMs();
      if (age <= this.options.staleAfterMs) return { name: 'canary', ok: true };
      const what = this.newest ? `the newest canary heartbeat in ClickHouse was emitted ${(age / 1000).toFixed(1)} s ago` : `no canary heartbeat in ClickHouse for ${(age / 1000).toFixed(1)} s`;
      return { name: 'canary', ok: false, detail: `${what} (limit ${this.options.staleAfterMs / 1000} s)` };
    };
  }

  /** One look: what arrived, then (every emittedPollMs) what was emitted and what is lost. */
  async poll(): Promise<void> {
    const since = (this.options.now() - 2 * this.options.lostAfterMs) * 1000;
    const arrived = await this.arrivals.arrivedSince(since);
    const seenAt = this.options.now();
    for (const heartbeat of arrived) {
      if (this.seen.has(heartbeat.id) || heartbeat.emittedAt < since) continue;
      this.seen.set(heartbeat.id, heartbeat.emittedAt);
      this.pending.delete(heartbeat.id);
      if (this.looked) this.instruments.roundTrip.observe(Math.max(0, seenAt * 1000 - heartbeat.emittedAt) / 1e6);
      if (!this.newest || heartbeat.emittedAt > this.newest.emittedAt) this.newest = { emittedAt: heartbeat.emittedAt, seenAt };
    }
    this.looked = true;
    if (seenAt - this.lastEmittedRead >= this.options.emittedPollMs) {
      this.lastEmittedRead = seenAt;
      for (const heartbeat of await this.emitted.emittedSince(since)) {
        if (!this.seen.has(heartbeat.id) && !this.pending.has(heartbeat.id)) this.pending.set(heartbeat.id, { emittedAt: heartbeat.emittedAt, lost: false });
      }
    }
    const deadline = (this.options.now() - this.options.lostAfterMs) * 1000;
    for (const [id, heartbeat] of this.pending) {
      if (heartbeat.emittedAt < since) this.pending.delete(id);
      else if (!heartbeat.lost && heartbeat.emittedAt < deadline) {
        heartbeat.lost = true;
        this.instruments.lost.inc();
        this.options.logger.warn('canary heartbeat lost: not in ClickHouse within its deadline', { id, emittedAt: new Date(heartbeat.emittedAt / 1000).toISOString(), lostAfterMs: this.options.lostAfterMs });
      }
    }
    for (const [id, emittedAt] of this.seen) if (emittedAt < since) this.seen.delete(id);
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      this.poked = false;
      try {
        await this.poll();
        if (this.failures > 0) this.options.logger.info('canary watcher reads again', { failures: this.failures });
        this.failures = 0;
      } catch (error) {
        if (this.failures++ % 40 === 0) this.options.logger.warn('canary watcher could not look', { failures: this.failures, error: errorMessage(error) });
      }
      if (this.poked || this.stopping.signal.aborted) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(this.options.pollMs, this.stopping.signal).then(resolve);
      });
      this.wake = undefined;
    }
  }
}
