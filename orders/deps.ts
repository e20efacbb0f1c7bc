import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator, OrderStore, OutboxSignal, OrderUnitOfWork } from './ports.js';

export interface OrderServiceDeps {
  store: OrderStore;
  clock?: Clock;
  ids?: IdGenerator;
  /** Woken after each committed write (the in-process relay). */
  signal?: OutboxSignal;
}

export const systemClock: Clock = {
  nowMicros: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
};
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
