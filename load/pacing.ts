/**
 * Open-loop pacing with a bounded number of requests in flight: request i is due `i / rate`
 * seconds after the start, whatever the earlier ones are doing, so a slow API does not slow the
 * offered rate down (a closed loop would hide its queueing). At most `concurrency` requests are
 * in flight: when they all are, the next due request waits for one to finish and goes as soon
 * as one does (the run falls behind its schedule, which the achieved rate shows). The run stops
 * issuing at `planned` requests, at the deadline or on abort, and then waits for those in flight.
 */
export interface PaceOptions {
  /** Requests offered per second, > 0. */
  rate: number;
  /** Requests to send in all (plannedRequests). */
  planned: number;
  /** Most requests in flight at once, ≥ 1. */
  concurrency: number;
  /** No request starts at or after this time (ms, the `now` clock); undefined: none. */
  deadlineMs?: number;
  signal?: AbortSignal;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface PaceResult {
  /** Requests started (all of them finished when the promise resolves). */
  sent: number;
  /** Planned requests not started because the deadline passed or the run was aborted. */
  notSent: number;
  /** The largest number in flight at once. */
  peakInFlight: number;
}

/** Requests a run sends: rate × duration, at most maxRequests; without a duration, maxRequests. */
export function plannedRequests(rate: number, durationSeconds: number | undefined, maxRequests: number | undefined): number {
  const byTime = durationSeconds === undefined ? Infinity : Math.floor(rate * durationSeconds);
  const planned = Math.min(byTime, maxRequests ?? Infinity);
  if (!Number.isFinite(planned)) throw new RangeError('a run needs a duration or a number of requests');
  return Math.max(0, planned);
}

/** When request `index` (0-based) is due, in ms after the start. */
export const dueAtMs = (index: number, rate: number) => (index * 1000) / rate;

/** Runs `send(i)` for i = 0, 1, … on the schedule above. `send` must not reject. */
export async function pace(options: PaceOptions, send: (index: number) => Promise<void>): Promise<PaceResult> {
  const { rate, planned, concurrency, now, sleep, signal } = options;
  if (!(rate > 0)) throw new RangeError(`the rate must be more than 0 (got ${rate})`);
  if (!(concurrency >= 1)) throw new RangeError(`the concurrency must be at least 1 (got ${concurrency})`);
  const started = now();
  const inFlight = new Set<Promise<void>>();
  let peakInFlight = 0;
  let sent = 0;
  const stopped = () => signal?.aborted === true || (options.deadlineMs !== undefined && now() >= options.deadlineMs);
  for (let i = 0; i < planned; i++) {
    const wait = started + dueAtMs(i, rate) - now();
    // Timers are coarse (≥ 1 ms): requests due within the next millisecond go now.
    if (wait >= 1) await sleep(options.deadlineMs === undefined ? wait : Math.min(wait, Math.max(0, options.deadlineMs - now())), signal);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopped()) break;
    // Once the deadline passes while sleeping, the due time may not have been reached: stop then too.
    if (now() < started + dueAtMs(i, rate) - 1) {
      i--;
      continue;
    }
    const request: Promise<void> = send(i).finally(() => inFlight.delete(request));
    inFlight.add(request);
    sent++;
    peakInFlight = Math.max(peakInFlight, inFlight.size);
  }
  await Promise.all(inFlight);
  return { sent, notSent: planned - sent, peakInFlight };
}
