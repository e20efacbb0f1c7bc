import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator, OrderStore, OutboxSignal, OrderUnitOfWork } from './ports.js';

export interface OrderServiceDeps {
  store: OrderStore;
  clock?: Clock;
  ids?: IdGenerator;
  /** Woken after each committed write (the in-process relay). */
  signal?: OutboxSignal;
}

/**
 * Wall-clock microseconds (`wallMillis`, Date.now by default, so it follows NTP corrections
 * instead of drifting away from wall time over uptime as timeOrigin + performance.now() does),
 * guarded to be strictly increasing within the process: when the wall clock steps back, times
 * advance by 1 µs per call until it catches up.
 */
export function monotonicWallClock(wallMillis: () => number = () => Date.now()): Clock {
  let last = 0;
  return {
    nowMicros: () => {
      const wall = Math.floor(wallMillis() * 1000);
      last = wall > last ? wall : last + 1;
      return last;
    },
  };
}

export const systemClock: Clock = monotonicWallClock();
export const randomIds: IdGenerator = { uuid: () => randomUUID() };

/** Runs a write in one transaction, then wakes the relay: every write's events leave at once. */
export async function write<T>(
  deps: OrderServiceDeps,
  work: (uow: OrderUnitOfWork, tools: { now: number; uuid: () => string }) => Promise<T>,
): Promise<T> {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? randomIds;
  const result = await deps.store.transaction((uow) => work(uow, { now: clock.nowMicros(), uuid: () => ids.uuid() }));
  deps.signal?.notify();
  return result;
}
