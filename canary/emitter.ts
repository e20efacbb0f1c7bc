import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../core/log.js';
import { noopMetrics, type Metrics } from '../metrics/metrics.js';
import { heartbeatIdFor } from './model.js';
import type { HeartbeatLog } from './ports.js';

export interface CanaryEmitterOptions {
  /** Time between two heartbeats. Default 5,000 ms. */
  intervalMs: number;
  /** Partitions of shop.canary.v1: heartbeat n is keyed for partition n mod partitions. Required. */
  partitions: number;
  /** Heartbeat rows are kept this long in MySQL, then purged. Default 1 day (as in ClickHouse). */
  retentionMs: number;
  /** How often to purge, and rows deleted per statement. Defaults 10 minutes and 1,000. */
  purgeIntervalMs: number;
  purgeBatch: number;
  /** Woken after each heartbeat committed (the relay of this process), so it leaves at once. */
  signal: { notify(): void } | undefined;
  uuid: () => string;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_CANARY_EMITTER_OPTIONS: Omit<CanaryEmitterOptions, 'partitions'> = {
  intervalMs: 5_000,
  retentionMs: 24 * 3600_000,
  purgeIntervalMs: 10 * 60_000,
  purgeBatch: 1_000,
  signal: undefined,
  uuid: randomUUID,
  metrics: noopMetrics,
  logger: createLogger('canary'),
};

/**
 * Writes a heartbeat through the outbox every intervalMs (the first at `start`), rotating over
 * the partitions of shop.canary.v1, and counts them (shopstream_canary_emitted_total). A write
 * that fails is logged and not retried: the next heartbeat comes on time, and the missing one
 * shows as an older canary at the watcher.
 *
 * Lifecycle: `start` begins emitting; `stop` ends it once the write in flight finished.
 */
export class CanaryEmitter {
  private readonly options: CanaryEmitterOptions;
  private timer: NodeJS.Timeout | undefined;
  private purger: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private next = 0;
  private running = false;
  private readonly emitted;

  constructor(
    private readonly log: HeartbeatLog,
    options: Partial<CanaryEmitterOptions> & { partitions: number },
  ) {
    this.options = { ...DEFAULT_CANARY_EMITTER_OPTIONS, ...options };
    if (!(this.options.intervalMs > 0)) throw new RangeError(`the canary interval must be positive (got ${this.options.intervalMs})`);
    this.emitted = this.options.metrics.counter({ name: 'shopstream_canary_emitted_total', help: 'Canary heartbeats written to the outbox' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      this.inFlight = this.emit().finally(() => {
        if (this.running) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    tick();
    this.purger = setInterval(() => void this.purge(), this.options.purgeIntervalMs);
    this.purger.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.purger);
    await this.inFlight;
  }

  /** Writes one heartbeat, for the next partition in turn. */
  async emit(): Promise<void> {
    const partition = this.next;
    this.next = (this.next + 1) % this.options.partitions;
    const heartbeatId = heartbeatIdFor(partition, this.options.partitions, this.options.uuid);
    try {
      await this.log.append({ heartbeatId, partition });
      this.emitted.inc();
      this.options.signal?.notify();
    } catch (error) {
      this.options.logger.warn('canary heartbeat not written', { partition, error });
    }
  }

  async purge(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.log.purge(this.options.retentionMs, this.options.purgeBatch);
        total += deleted;
        if (deleted < this.options.purgeBatch || !this.running) break;
      }
    } catch (error) {
      this.options.logger.warn('canary heartbeat purge failed', { error });
    }
    return total;
  }
}
