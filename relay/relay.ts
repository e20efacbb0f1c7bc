import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { LATENCY_BUCKETS, noopMetrics, type Metrics } from '../metrics/metrics.js';
import type { EventPublisher, OutboxRow, OutboxStore, PublishOutcome } from './ports.js';

export interface RelayOptions {
  /** Rows claimed per batch. Default 500. */
  batchSize: number;
  /** First idle poll delay; doubles while the outbox stays empty. Default 5 ms. */
  minPollMs: number;
  /** Longest idle poll delay (the fallback when no in-process signal arrives). Default 200 ms. */
  maxPollMs: number;
  /** Delay after a failed batch. Default 1,000 ms. */
  errorBackoffMs: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  batchSize: 500,
  minPollMs: 5,
  maxPollMs: 200,
  errorBackoffMs: 1_000,
  metrics: noopMetrics,
  logger: createLogger('relay'),
};

/**
 * Publishes the outbox to Kafka. Lifecycle: `start` runs the loop until `stop`, which lets the
 * batch in flight finish (its rows are acknowledged and marked) before resolving.
 *
 * Latency: `notify()` (called after a commit in the same process) wakes the loop at once;
 * otherwise it polls, backing off from minPollMs to maxPollMs while empty and draining in a tight
 * loop while batches come back full. Ordering: rows are claimed in id order and sent in that
 * order with the aggregate id as key; the publisher holds back the later rows of an aggregate
 * whose earlier row failed, so one aggregate's events never overtake each other.
 */
export class OutboxRelay {
  private readonly options: RelayOptions;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pending = false;
  /** Whether the last batch published nothing although it claimed rows (all failed or held). */
  private stalled = false;
  private readonly published;
  private readonly failures;
  private readonly publishLatency;

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: EventPublisher,
    options: Partial<RelayOptions> = {},
  ) {
    this.options = { ...DEFAULT_RELAY_OPTIONS, ...options };
    const metrics = this.options.metrics;
    this.published = metrics.counter({ name: 'shopstream_relay_published_total', help: 'Outbox events published to Kafka', labelNames: ['event_type'] });
    this.failures = metrics.counter({ name: 'shopstream_relay_failures_total', help: 'Outbox events that failed to publish' });
    this.publishLatency = metrics.histogram({
      name: 'shopstream_relay_publish_latency_seconds',
      help: 'Outbox insert to Kafka acknowledgement',
      buckets: LATENCY_BUCKETS,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was committed to the outbox: publish it now. */
  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes until the outbox is empty (for tools and tests). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.store.claim(this.options.batchSize, (rows) => this.publish(rows));
      total += claimed;
      if (claimed === 0) return total;
    }
  }

  private async run(): Promise<void> {
    let idleDelay = this.options.minPollMs;
    while (this.running) {
      this.pending = false;
      let claimed = 0;
      try {
        claimed = await this.store.claim(this.options.batchSize, (rows) => this.publish(rows));
      } catch (error) {
        this.options.logger.warn('batch failed; retrying', { error: errorMessage(error) });
        await this.sleep(this.options.errorBackoffMs);
        continue;
      }
      if (this.stalled) {
        await this.sleep(this.options.errorBackoffMs);
        continue;
      }
      if (claimed >= this.options.batchSize) continue;
      if (claimed > 0 || this.pending) {
        idleDelay = this.options.minPollMs;
        if (this.pending) continue;
      }
      await this.sleep(idleDelay);
      idleDelay = Math.min(this.options.maxPollMs, idleDelay * 2);
    }
  }

  private async publish(rows: OutboxRow[]): Promise<PublishOutcome> {
    const outcome = await this.publisher.publish(rows);
    this.stalled = outcome.published.length === 0;
    const published = new Set(outcome.published);
    const now = Date.now() * 1000;
    for (const row of rows) {
      if (!published.has(row.id)) continue;
      this.published.inc({ event_type: row.eventType });
      this.publishLatency.observe(Math.max(0, now - row.createdAt) / 1e6);
    }
    if (outcome.failed.length > 0) {
      this.failures.inc(undefined, outcome.failed.length);
      this.options.logger.warn('events failed to publish', { failed: outcome.failed.slice(0, 5) });
    }
    return outcome;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
