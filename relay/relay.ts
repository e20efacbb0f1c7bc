import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { E2E_LATENCY, LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { ClaimDecision, EventPublisher, OutboxRow, OutboxStore } from './ports.js';

export interface RelayOptions {
  /** Rows claimed per batch. Default 1,000. */
  batchSize: number;
  /** Batches in flight at once (each claims other aggregates' heads, so order holds). Default 2. */
  concurrency: number;
  /** First idle poll delay; doubles while the outbox stays empty. Default 5 ms. */
  minPollMs: number;
  /** Longest idle poll delay: the fallback when no in-process signal arrives. Default 50 ms. */
  maxPollMs: number;
  /** After a partial batch, how long to let commits accumulate before the next claim. Default 2 ms. */
  coalesceMs: number;
  /** Pause after an infrastructure failure (Kafka or the registry unreachable). Default 1,000 ms. */
  errorBackoffMs: number;
  /** Attempts of a row that keeps failing before it is parked. Default 5. */
  maxAttempts: number;
  /** Delay before a failed row's second attempt; doubles per attempt. Default 1,000 ms. */
  attemptBackoffMs: number;
  /** Longest delay between attempts of a row. Default 5 minutes. */
  maxAttemptBackoffMs: number;
  /** Published rows are kept this long for replays, then purged. Default 7 days. */
  retentionMs: number;
  /** How often to purge, and rows deleted per statement. Defaults 60 s and 1,000. */
  purgeIntervalMs: number;
  purgeBatch: number;
  metrics: Metrics;
  logger: Logger;
}

const KAFKA_STAGE = { stage: 'kafka' };

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  batchSize: 1_000,
  concurrency: 2,
  minPollMs: 5,
  maxPollMs: 50,
  coalesceMs: 2,
  errorBackoffMs: 1_000,
  maxAttempts: 5,
  attemptBackoffMs: 1_000,
  maxAttemptBackoffMs: 5 * 60_000,
  retentionMs: 7 * 24 * 3600_000,
  purgeIntervalMs: 60_000,
  purgeBatch: 1_000,
  metrics: noopMetrics,
  logger: createLogger('relay'),
};

/**
 * Publishes the outbox to Kafka.
 *
 * Lifecycle: `start` runs `concurrency` claim loops until `stop`, which lets the batches in flight
 * finish (their rows acknowledged and marked) before resolving. `drain` publishes until nothing
 * is claimable.
 *
 * Latency: `notify()` (called after a commit in the same process) wakes the loop at once;
 * otherwise it polls, backing off from minPollMs to maxPollMs while empty, and drains in a tight
 * loop while batches come back full.
 *
 * Ordering and failures: the store hands out each aggregate's head with the run of versions that
 * follows it, so an aggregate's events leave in version order across any number of relays. A row that fails (it does not encode) is
 * retried with exponential backoff and parked after maxAttempts; meanwhile the later events of
 * its aggregate wait behind it while other aggregates keep flowing. Infrastructure failures
 * (Kafka, the registry) count against no row: the batch is simply claimed again later.
 */
export class OutboxRelay {
  private readonly options: RelayOptions;
  private running = false;
  private stopRequested = false;
  private loops: Promise<void>[] = [];
  private purger: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();
  private pending = false;
  private lastInfraError: string | undefined;
  private readonly instruments;

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: EventPublisher,
    options: Partial<RelayOptions> = {},
  ) {
    this.options = { ...DEFAULT_RELAY_OPTIONS, ...options };
    const metrics = this.options.metrics;
    let stats: Promise<{ backlog: number; oldestUnpublishedAt: number | null; parked: number }> | undefined;
    // One stats query per scrape, shared by the three gauges.
    const collectStats = async () => {
      stats ??= store.stats().finally(() => setTimeout(() => (stats = undefined), 500));
      return stats;
    };
    const backlog = metrics.gauge({
      name: 'shopstream_outbox_backlog',
      help: 'Unpublished outbox rows (parked included)',
      collect: async () => backlog.set((await collectStats()).backlog),
    });
    const oldest = metrics.gauge({
      name: 'shopstream_outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest unpublished outbox row',
      collect: async () => {
        const at = (await collectStats()).oldestUnpublishedAt;
        oldest.set(at === null ? 0 : Math.max(0, Date.now() / 1000 - at / 1e6));
      },
    });
    const parked = metrics.gauge({
      name: 'shopstream_outbox_parked',
      help: 'Outbox rows parked after repeated failures',
      collect: async () => parked.set((await collectStats()).parked),
    });
    this.instruments = {
      published: metrics.counter({ name: 'shopstream_relay_published_total', help: 'Outbox events published to Kafka', labelNames: ['event_type'] }),
      failures: metrics.counter({ name: 'shopstream_relay_failures_total', help: 'Outbox events that failed to publish', labelNames: ['kind'] }),
      parkedTotal: metrics.counter({ name: 'shopstream_relay_parked_total', help: 'Outbox events parked after maxAttempts' }),
      purged: metrics.counter({ name: 'shopstream_outbox_purged_total', help: 'Published outbox rows purged after the retention window' }),
      latency: metrics.histogram({ name: 'shopstream_relay_publish_latency_seconds', help: 'Outbox insert to Kafka acknowledgement', buckets: LATENCY_BUCKETS }),
      endToEnd: metrics.histogram(E2E_LATENCY),
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: Math.max(1, this.options.concurrency) }, () => this.run());
    this.purger = setInterval(() => void this.purge(), this.options.purgeIntervalMs);
    this.purger.unref();
  }

  /** Something was committed to the outbox: publish it now (one idle claim loop is enough). */
  notify(): void {
    this.pending = true;
    const [first] = this.sleepers;
    first?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopRequested = true;
    clearInterval(this.purger);
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
  }

  /** The last infrastructure failure, cleared by the next successful batch (for readiness). */
  get infrastructureError(): string | undefined {
    return this.lastInfraError;
  }

  /** Publishes until nothing is claimable (for tools and tests). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.store.claim(this.options.batchSize, async (rows) => (await this.publish(rows)).decision);
      total += claimed;
      if (claimed === 0) return total;
    }
  }

  /** Deletes published rows older than the retention window, in small batches. */
  async purge(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.store.purgePublished(this.options.retentionMs, this.options.purgeBatch);
        total += deleted;
        if (deleted < this.options.purgeBatch || this.stopRequested) break;
      }
    } catch (error) {
      this.options.logger.warn('purge failed', { error });
    }
    if (total > 0) this.instruments.purged.inc(undefined, total);
    return total;
  }

  /** One claim loop; several run side by side. */
  private async run(): Promise<void> {
    let idleDelay = this.options.minPollMs;
    while (this.running) {
      this.pending = false;
      let claimed = 0;
      /** The batch claimed rows but published none (all failed): pause before the next. */
      let stalled = false;
      try {
        claimed = await this.store.claim(this.options.batchSize, async (rows) => {
          const { decision, publishedAny } = await this.publish(rows);
          stalled = !publishedAny;
          return decision;
        });
        this.lastInfraError = undefined;
      } catch (error) {
        this.lastInfraError = errorMessage(error);
        this.instruments.failures.inc({ kind: 'infrastructure' });
        this.options.logger.warn('batch failed; will retry', { error });
        await this.sleep(this.options.errorBackoffMs);
        continue;
      }
      if (stalled) {
        await this.sleep(Math.min(this.options.errorBackoffMs, this.options.attemptBackoffMs));
        continue;
      }
      if (claimed > 0 || this.pending) {
        // Work came back or was signalled: claim again soon, until the outbox is empty. After a
        // partial batch, wait a moment so the commits arriving meanwhile share the next claim.
        idleDelay = this.options.minPollMs;
        if (claimed > 0 && claimed < this.options.batchSize) await new Promise((resolve) => setTimeout(resolve, this.options.coalesceMs));
        continue;
      }
      await this.sleep(idleDelay);
      idleDelay = Math.min(this.options.maxPollMs, idleDelay * 2);
    }
  }

  private async publish(rows: OutboxRow[]): Promise<{ decision: ClaimDecision; publishedAny: boolean }> {
    const outcome = await this.publisher.publish(rows);
    const published = new Set(outcome.published);
    const now = Date.now() * 1000;
    for (const row of rows) {
      if (!published.has(row.id)) continue;
      this.instruments.published.inc({ event_type: row.eventType });
      const seconds = Math.max(0, now - row.createdAt) / 1e6;
      this.instruments.latency.observe(seconds);
      this.instruments.endToEnd.observe(seconds, KAFKA_STAGE);
    }
    const attemptsOf = new Map(rows.map((row) => [row.id, row.attempts]));
    const failed = outcome.failed.map(({ id, error }) => {
      const attempt = (attemptsOf.get(id) ?? 0) + 1;
      const park = attempt >= this.options.maxAttempts;
      const retryInMs = Math.min(this.options.maxAttemptBackoffMs, this.options.attemptBackoffMs * 2 ** (attempt - 1));
      return { id, error, park, retryInMs };
    });
    if (failed.length > 0) {
      this.instruments.failures.inc({ kind: 'event' }, failed.length);
      const parked = failed.filter((f) => f.park);
      if (parked.length > 0) this.instruments.parkedTotal.inc(undefined, parked.length);
      this.options.logger.warn('events failed to publish', { failed: failed.slice(0, 5), parked: parked.length });
    }
    return { decision: { published: outcome.published, failed }, publishedAny: outcome.published.length > 0 };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

