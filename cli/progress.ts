import { SingleBar } from 'cli-progress';

/**
 * Progress of a long command, for a person at a terminal or for a CI log.
 *
 * On a TTY it is a bar (cli-progress) redrawn in place: count, rate, ETA and the fields. On
 * anything else (a file, a pipe, a CI log) it is one plain line every `intervalMs`, and a last
 * line at `stop`: nothing is redrawn, so a log keeps every line readable.
 *
 * Lifecycle: `start` once, then any number of `increment`/`set`/`update`/`setTotal`, then `stop`
 * once; calls before `start` or after `stop` are ignored. The rate is the count's growth over the
 * last lines (TTY: the last `rateWindowMs`); the ETA is the remaining count at the average rate
 * since `start`, shown only with a total.
 */
export interface Progress {
  /** Begins counting from 0; `total` when known (a bar and an ETA need it). */
  start(total?: number): void;
  /** Adds `n` (default 1) to the count. */
  increment(n?: number): void;
  /** Sets the count (for callers that know the absolute position). */
  set(value: number): void;
  /** Sets or replaces fields shown after the count, in insertion order; `undefined` removes one. */
  update(fields: Record<string, string | number | undefined>): void;
  setTotal(total: number): void;
  /** Ends the display (a last line with the count, time and average rate), then writes `summary`. */
  stop(summary?: string | string[]): void;
  readonly value: number;
}

export interface ProgressOptions {
  /** What is being done, first on every line: "load", "replay orders". */
  label: string;
  /** What is counted. Default "items". */
  unit?: string;
  /** Where progress goes. Default process.stderr, so stdout stays for the command's results. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Bar (true) or plain lines (false). Default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Time between two plain lines. Default 5,000 ms. */
  intervalMs?: number;
  /** Window of the rate shown on the bar. Default 5,000 ms. */
  rateWindowMs?: number;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
}

const DEFAULTS = { unit: 'items', intervalMs: 5_000, rateWindowMs: 5_000 };

export const formatCount = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const formatRate = (perSecond: number) => (perSecond >= 100 ? formatCount(perSecond) : perSecond.toFixed(1));

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  return tty ? barProgress(options, stream) : lineProgress(options, stream);
}

/** State both displays share: count, total, fields, times. */
function counter(options: ProgressOptions) {
  const now = options.now ?? Date.now;
  return {
    now,
    value: 0,
    total: undefined as number | undefined,
    fields: new Map<string, string | number>(),
    startedAt: 0,
    state: 'new' as 'new' | 'running' | 'stopped',
    setFields(fields: Record<string, string | number | undefined>) {
      for (const [name, v] of Object.entries(fields)) {
        if (v === undefined) this.fields.delete(name);
        else this.fields.set(name, v);
      }
    },
    fieldText(): string {
      return [...this.fields].map(([name, v]) => `${name} ${v}`).join(' · ');
    },
    eta(): string {
      if (this.total === undefined) return '';
      const elapsed = (now() - this.startedAt) / 1000;
      const rate = elapsed > 0 ? this.value / elapsed : 0;
      return formatSeconds(rate > 0 ? Math.max(0, this.total - this.value) / rate : Infinity);
    },
    finalLine(label: string, unit: string): string {
      const seconds = (now() - this.startedAt) / 1000;
      const of = this.total !== undefined && this.total !== this.value ? ` of ${formatCount(this.total)}` : '';
      const rate = seconds > 0 ? ` (${formatRate(this.value / seconds)}/s)` : '';
      const fields = this.fieldText();
      return `${label}: done, ${formatCount(this.value)}${of} ${unit} in ${formatSeconds(seconds)}${rate}${fields ? ` · ${fields}` : ''}`;
    },
  };
}

function writeSummary(stream: NodeJS.WritableStream, summary: string | string[] | undefined): void {
  if (summary === undefined) return;
  for (const line of Array.isArray(summary) ? summary : [summary]) stream.write(`${line}\n`);
}

/** Plain lines: one every `intervalMs` while running (a timer, so a stalled count still shows), one at `stop`. */
function lineProgress(options: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const unit = options.unit ?? DEFAULTS.unit;
  const intervalMs = options.intervalMs ?? DEFAULTS.intervalMs;
  const c = counter(options);
  let timer: NodeJS.Timeout | undefined;
  let last = { at: 0, value: 0 };

  const line = () => {
    const at = c.now();
    const seconds = (at - last.at) / 1000;
    const rate = seconds > 0 ? (c.value - last.value) / seconds : 0;
    last = { at, value: c.value };
    const count = c.total !== undefined ? `${formatCount(c.value)} of ${formatCount(c.total)} ${unit} (${c.total > 0 ? Math.floor((c.value / c.total) * 100) : 100} %)` : `${formatCount(c.value)} ${unit}`;
    const parts = [count, `${formatRate(rate)}/s`, c.total !== undefined ? `ETA ${c.eta()}` : `${formatSeconds((at - c.startedAt) / 1000)}`];
    const fields = c.fieldText();
    if (fields) parts.push(fields);
    stream.write(`${options.label}: ${parts.join(' · ')}\n`);
  };

  return {
    get value() {
      return c.value;
    },
    start(total) {
      if (c.state !== 'new') return;
      c.state = 'running';
      c.total = total;
      c.startedAt = c.now();
      last = { at: c.startedAt, value: 0 };
      timer = setInterval(line, intervalMs);
      timer.unref();
    },
    increment(n = 1) {
      if (c.state === 'running') c.value += n;
    },
    set(value) {
      if (c.state === 'running') c.value = value;
    },
    update(fields) {
      if (c.state === 'running') c.setFields(fields);
    },
    setTotal(total) {
      if (c.state === 'running') c.total = total;
    },
    stop(summary) {
      if (c.state !== 'running') return;
      c.state = 'stopped';
      clearInterval(timer);
      stream.write(`${c.finalLine(options.label, unit)}\n`);
      writeSummary(stream, summary);
    },
  };
}

/** A cli-progress bar redrawn in place; without a total, a count, a rate and the elapsed time. */
function barProgress(options: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const unit = options.unit ?? DEFAULTS.unit;
  const windowMs = options.rateWindowMs ?? DEFAULTS.rateWindowMs;
  const c = counter(options);
  let bar: SingleBar | undefined;
  // (time, count) samples over the last window: the rate is the growth across them.
  const samples: { at: number; value: number }[] = [];

  const payload = () => {
    const at = c.now();
    samples.push({ at, value: c.value });
    while (samples.length > 2 && samples[0]!.at < at - windowMs) samples.shift();
    const first = samples[0]!;
    const rate = at > first.at ? ((c.value - first.value) * 1000) / (at - first.at) : 0;
    const fields = c.fieldText();
    return { rate: formatRate(rate), remaining: c.eta(), fields: fields ? ` | ${fields}` : '', count: formatCount(c.value), totalCount: formatCount(c.total ?? 0) };
  };
  const format = (withTotal: boolean) =>
    withTotal
      ? `${options.label} [{bar}] {percentage}% | {count}/{totalCount} ${unit} | {rate}/s | ETA {remaining}{fields}`
      : `${options.label} {count} ${unit} | {rate}/s | {duration_formatted}{fields}`;

  return {
    get value() {
      return c.value;
    },
    start(total) {
      if (c.state !== 'new') return;
      c.state = 'running';
      c.total = total;
      c.startedAt = c.now();
      bar = new SingleBar({ format: format(total !== undefined), stream, hideCursor: false, gracefulExit: false, fps: 5, barsize: 30, etaBuffer: 50 });
      bar.start(total ?? 0, 0, payload());
    },
    increment(n = 1) {
      if (c.state !== 'running') return;
      c.value += n;
      bar!.update(c.value, payload());
    },
    set(value) {
      if (c.state !== 'running') return;
      c.value = value;
      bar!.update(c.value, payload());
    },
    update(fields) {
      if (c.state !== 'running') return;
      c.setFields(fields);
      bar!.update(c.value, payload());
    },
    setTotal(total) {
      if (c.state !== 'running') return;
      c.total = total;
      bar!.setTotal(total);
      bar!.update(c.value, payload());
    },
    stop(summary) {
      if (c.state !== 'running') return;
      c.state = 'stopped';
      bar!.update(c.value, payload());
      bar!.stop();
      stream.write(`${c.finalLine(options.label, unit)}\n`);
      writeSummary(stream, summary);
    },
  };
}

/**
 * Adapts "phase, done, total" reports (the replay's `onProgress`, an ops job's polled progress)
 * to one Progress per phase: a new phase stops the previous display and starts its own.
 * `done()` stops the last one.
 */
export function phasedProgress(options: Omit<ProgressOptions, 'label'> & { label?: string }): { report(phase: string, done: number, total: number): void; done(): void } {
  let phase: string | undefined;
  let current: Progress | undefined;
  return {
    report(name, done, total) {
      if (name !== phase) {
        current?.stop();
        phase = name;
        current = createProgress({ ...options, label: options.label ? `${options.label} ${name}` : name });
        current.start(total > 0 ? total : undefined);
      }
      if (total > 0) current!.setTotal(total);
      current!.set(done);
    },
    done() {
      current?.stop();
      current = undefined;
      phase = undefined;
    },
  };
}
