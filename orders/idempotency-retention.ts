import { createLogger, type Logger } from '../core/log.js';
import type { IdempotencyKeyStore } from './ports.js';

export interface IdempotencyRetentionOptions {
  /** Stored Idempotency-Keys (and their responses) are kept at least this long. Default 24 h. */
  retentionMs: number;
  /** How often the purge runs. Default 60 s. */
  intervalMs: number;
  /** Keys deleted per statement, so a purge never holds many locks. Default 500. */
  batch: number;
  logger: Logger;
}

export const DEFAULT_IDEMPOTENCY_RETENTION: IdempotencyRetentionOptions = {
  retentionMs: 24 * 3600_000,
  intervalMs: 60_000,
  batch: 500,
  logger: createLogger('idempotency'),
};

/**
 * Deletes Idempotency-Keys older than the retention, oldest first, in batches. A key is honoured
 * for at least `retentionMs` (at most `intervalMs` longer); after that the same key is new again.
 *
 * Lifecycle: `start` purges every `intervalMs` (the timer does not keep the process alive) until
 * `stop`, which waits for a purge in flight. A failed purge is logged and tried at the next tick.
 */
export class IdempotencyKeyPurger {
  private readonly options: IdempotencyRetentionOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly store: IdempotencyKeyStore,
    options: Partial<IdempotencyRetentionOptions> = {},
  ) {
    this.options = { ...DEFAULT_IDEMPOTENCY_RETENTION, ...options };
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.purge(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes every expired key, `batch` at a time; returns how many (0 when one is already running). */
  purge(): Promise<number> {
    if (this.running) return Promise.resolve(0);
    this.running = this.purgeAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeAll(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.store.purgeIdempotencyKeys(this.options.retentionMs, this.options.batch);
        total += deleted;
        if (deleted < this.options.batch || this.stopped) break;
      }
    } catch (error) {
      this.options.logger.warn('idempotency key purge failed', { error });
    }
    if (total > 0) this.options.logger.debug('purged idempotency keys', { total });
    return total;
  }
}
