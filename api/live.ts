import type { Request, Response } from 'express';
import { microsToIso } from '../core/time.js';
import type { Logger } from '../core/log.js';
import type { PipelineHealthReader } from './ports.js';

export interface LiveFeedOptions {
  /** Time between two looks at the newest order change (fallback for changes `poke` does not announce). Default 1,000 ms. */
  pollMs: number;
  /** Time between two health events. Default 2,000 ms. */
  healthMs: number;
  /** A comment line this often keeps idle proxies from closing a stream. Default 15,000 ms. */
  keepAliveMs: number;
  /** What browsers wait before reconnecting a lost stream (the `retry` field). Default 2,000 ms. */
  retryMs: number;
}

export const DEFAULT_LIVE_FEED_OPTIONS: LiveFeedOptions = { pollMs: 1_000, healthMs: 2_000, keepAliveMs: 15_000, retryMs: 2_000 };

export interface LiveSources {
  /** Outbox commit time (epoch µs) of the newest order change the aggregates hold (AnalyticsStore.newestChange). */
  newestChange?: () => Promise<number | null>;
  health?: PipelineHealthReader;
}

/**
 * Server-sent events for the dashboard (`GET /api/events`, text/event-stream):
 * - `sales` {newestChangeAt}: the analytics aggregates hold a newer order change than before: a
 *   sales figure may have changed, read the analytics API again (sent once on connect, then on
 *   every change);
 * - `health`: the pipeline health view (as GET /api/pipeline/health), every `healthMs`.
 * One set of timers serves every open stream and runs only while one is open. `poke` (this
 * process's sink inserted order changes) looks at once instead of at the next poll. Events carry
 * no figures: readers fetch those from the API, so the page and the API cannot disagree.
 *
 * Lifecycle: `close` ends every open stream and refuses new ones (before the HTTP server closes,
 * which waits for open connections).
 */
export class LiveFeed {
  private readonly options: LiveFeedOptions;
  private readonly clients = new Set<Response>();
  private timers: NodeJS.Timeout[] = [];
  private newest: number | null | undefined;
  private looking = false;
  private lookAgain = false;
  private pokeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sources: LiveSources,
    private readonly logger: Logger,
    options: Partial<LiveFeedOptions> = {},
  ) {
    this.options = { ...DEFAULT_LIVE_FEED_OPTIONS, ...options };
  }

  /** The Express handler of GET /api/events. */
  readonly handle = (req: Request, res: Response): void => {
    if (this.closed) {
      res.status(503).type('text/plain').send('shutting down');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: ${this.options.retryMs}\n\n`);
    this.clients.add(res);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimers();
    });
    if (this.newest !== undefined) this.send(res, 'sales', { newestChangeAt: this.newest === null ? null : microsToIso(this.newest) });
    if (this.timers.length === 0) this.startTimers();
    this.look();
    void this.sendHealth(res);
  };

  /** Order changes were inserted (by this process's sink): look at the newest one now. */
  poke(): void {
    if (this.clients.size === 0 || this.pokeTimer) return;
    // Inserts of one load come in a burst (orders, then their changes): one look after it.
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = undefined;
      this.look();
    }, 20);
  }

  close(): void {
    this.closed = true;
    this.stopTimers();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private startTimers(): void {
    const every = (ms: number, work: () => void) => {
      const timer = setInterval(work, ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (this.sources.newestChange) every(this.options.pollMs, () => this.look());
    if (this.sources.health) every(this.options.healthMs, () => void this.sendHealth());
    every(this.options.keepAliveMs, () => {
      for (const res of this.clients) res.write(': keep-alive\n\n');
    });
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.pokeTimer);
    this.pokeTimer = undefined;
  }

  /** One look at a time; one asked for meanwhile runs after it (it may see a change the first missed). */
  private look(): void {
    const read = this.sources.newestChange;
    if (!read) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    this.looking = true;
    void (async () => {
      try {
        const newest = await read();
        if (newest === this.newest) return;
        this.newest = newest;
        for (const res of this.clients) this.send(res, 'sales', { newestChangeAt: newest === null ? null : microsToIso(newest) });
      } catch (error) {
        this.logger.debug('live feed: the newest change could not be read', { error });
      } finally {
        this.looking = false;
        if (this.lookAgain) {
          this.lookAgain = false;
          this.look();
        }
      }
    })();
  }

  private async sendHealth(only?: Response): Promise<void> {
    if (!this.sources.health) return;
    try {
      const view = await this.sources.health.read();
      for (const res of only ? [only] : this.clients) this.send(res, 'health', view);
    } catch (error) {
      this.logger.debug('live feed: the pipeline health could not be read', { error });
    }
  }

  private send(res: Response, event: string, data: unknown): void {
    if (!this.clients.has(res) || res.writableEnded) return;
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
