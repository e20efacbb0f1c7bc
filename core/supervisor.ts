import { errorMessage } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { backoffDelay, sleep } from './retry.js';
import { noopMetrics, type Metrics } from '../metrics/metrics.js';

/** A long-running role that reports, once, that it cannot go on (through the callback it was made with). */
export interface SupervisedRole {
  start(): Promise<void>;
  /** Releases everything the instance holds; called once the instance failed, or on stop. */
  close(): Promise<void>;
}

export interface SupervisorOptions {
  /** The role's name in logs, metrics and readiness. Required. */
  name: string;
  /** Wait before the first restart. Default 1,000 ms; doubles per failed restart. */
  initialDelayMs: number;
  /** Longest wait between restarts. Default 60,000 ms. */
  maxDelayMs: number;
  /** An instance that ran this long before failing restarts after initialDelayMs again. Default 60,000 ms. */
  resetAfterMs: number;
  /**
   * A failed instance whose `close` has not finished after this long is left behind (logged) and
   * the next one starts anyway: a call stuck in a failed instance never keeps the role down.
   * Default 30,000 ms.
   */
  closeTimeoutMs: number;
  metrics: Metrics;
  logger: Logger;
}

export const DEFAULT_SUPERVISOR_OPTIONS: Omit<SupervisorOptions, 'name'> = {
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  resetAfterMs: 60_000,
  closeTimeoutMs: 30_000,
  metrics: noopMetrics,
  logger: createLogger('supervisor'),
};

export interface RoleStatus {
  name: string;
  state: 'starting' | 'running' | 'restarting' | 'paused' | 'stopped';
  restarts: number;
  /** Why the last instance stopped (kept after it was replaced, for diagnosis). */
  lastError: string | undefined;
}

/**
 * Keeps one instance of a role running in this process. An instance that reports a fatal error
 * (`onFatal`) is closed and replaced by a fresh one after an exponential backoff (with jitter,
 * from initialDelayMs up to maxDelayMs); an instance whose start fails is retried the same way.
 * A replaced instance gives up everything in memory: a new one begins from what Kafka and the
 * stores committed, which is what makes the restart safe. While no instance runs, `status()` is
 * not running, and /readyz reports the role and its last error; the other roles of the process
 * (the API among them) keep serving.
 *
 * Lifecycle: `start` resolves once the first instance runs and rejects if it cannot start (a
 * configuration or connection problem at start-up is reported, not retried); `stop` ends
 * restarts and closes the current instance. `pause` closes the current instance (or ends a
 * restart under way) and starts none until `resume` starts a fresh one, as a restart would.
 */
export class Supervisor {
  private readonly options: SupervisorOptions;
  private current: SupervisedRole | undefined;
  private readonly stopping = new AbortController();
  private state: RoleStatus['state'] = 'starting';
  private restarts = 0;
  private failures = 0;
  private lastError: string | undefined;
  private startedAt = 0;
  private restarting: Promise<void> | undefined;
  private paused = false;
  private readonly instruments;

  constructor(
    private readonly create: (onFatal: (error: unknown) => void) => SupervisedRole,
    options: Partial<SupervisorOptions> & { name: string },
  ) {
    this.options = { ...DEFAULT_SUPERVISOR_OPTIONS, ...options };
    const labels = { role: this.options.name };
    const restarts = this.options.metrics.counter({ name: 'shopstream_role_restarts_total', help: 'Restarts of a role after it stopped on a fatal error', labelNames: ['role'] });
    const up = this.options.metrics.gauge({ name: 'shopstream_role_up', help: '1 while an instance of the role runs', labelNames: ['role'] });
    this.instruments = { restart: () => restarts.inc(labels), up: (value: number) => up.set(value, labels) };
  }

  /** Starts the first instance; `paused` starts none (as if `pause` had been called) until `resume`. */
  async start({ paused = false }: { paused?: boolean } = {}): Promise<void> {
    if (paused) {
      this.paused = true;
      this.state = 'paused';
      this.instruments.up(0);
      return;
    }
    await this.launch();
  }

  status(): RoleStatus {
    return { name: this.options.name, state: this.state, restarts: this.restarts, lastError: this.lastError };
  }

  /** A readiness check (api/ports ReadinessCheck): ready while an instance runs. */
  readiness(): () => Promise<{ name: string; ok: boolean; detail?: string }> {
    return async () => {
      const status = this.status();
      return status.state === 'running'
        ? { name: status.name, ok: true }
        : { name: status.name, ok: false, detail: `${status.state}${status.lastError ? `: ${status.lastError}` : ''} (restarts: ${status.restarts})` };
    };
  }

  async pause(): Promise<void> {
    this.paused = true;
    this.state = 'paused';
    this.instruments.up(0);
    await this.restarting;
    const current = this.current;
    this.current = undefined;
    await current?.close().catch(() => undefined);
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    if (!this.paused || this.stopping.signal.aborted) return;
    this.paused = false;
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.state = 'stopped';
    this.instruments.up(0);
    await this.restarting;
    await this.current?.close().catch(() => undefined);
    this.current = undefined;
  }

  private async launch(): Promise<void> {
    let reported = false;
    const instance = this.create((error) => {
      if (reported || instance !== this.current) return;
      reported = true;
      this.restarting = this.replace(instance, error);
    });
    this.current = instance;
    this.startedAt = Date.now();
    try {
      await instance.start();
    } catch (error) {
      this.current = undefined;
      await instance.close().catch(() => undefined);
      throw error;
    }
    // A fatal error reported while starting is handled by `replace`, which already runs.
    if (reported) return;
    this.state = 'running';
    this.instruments.up(1);
  }

  private async closeFailed(failed: SupervisedRole): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      failed.close().then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.options.closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!closed) this.options.logger.error(`${this.options.name}: the stopped instance did not close within ${this.options.closeTimeoutMs} ms; starting a new one without it`);
  }

  /** Closes the failed instance, then starts new ones with backoff until one runs (or stop). */
  private async replace(failed: SupervisedRole, error: unknown): Promise<void> {
    this.state = 'restarting';
    this.lastError = errorMessage(error);
    this.instruments.up(0);
    if (Date.now() - this.startedAt >= this.options.resetAfterMs) this.failures = 0;
    await this.closeFailed(failed);
    if (this.current === failed) this.current = undefined;
    while (!this.stopping.signal.aborted && !this.paused) {
      const delayMs = backoffDelay(++this.failures, { initialDelayMs: this.options.initialDelayMs, maxDelayMs: this.options.maxDelayMs });
      this.options.logger.error(`${this.options.name} stopped; restarting it`, { error, inMs: delayMs, restarts: this.restarts });
      await sleep(delayMs, this.stopping.signal);
      if (this.stopping.signal.aborted || this.paused) return;
      this.restarts++;
      this.instruments.restart();
      try {
        await this.launch();
        if (this.status().state === 'running') this.options.logger.info(`${this.options.name} restarted`, { restarts: this.restarts });
        return;
      } catch (startError) {
        error = startError;
        this.lastError = errorMessage(startError);
      }
    }
  }
}
