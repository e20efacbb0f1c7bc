import type { KeyValueStore, StoreBuilder } from './api.js';

/** One change of a logged store, as written to its changelog topic (null value = delete). */
export interface StoreChange {
  key: string;
  value: unknown | null;
}

/**
 * A key-value store held in memory, with transactional writes: `put`/`delete` go to a pending
 * overlay that reads see at once; `commit` makes them durable state and hands them back (the
 * runtime sends them to the changelog in the same Kafka transaction as the outputs), `abort`
 * forgets them. So after an aborted transaction the store is exactly as the changelog has it.
 * Values must be JSON-serializable (they travel through the changelog).
 */
export class InMemoryKeyValueStore<V> implements KeyValueStore<string, V> {
  private readonly committed = new Map<string, V>();
  private readonly pending = new Map<string, V | null>();

  constructor(
    readonly name: string,
    /** Whether changes are sent to a changelog topic (and restored from it). */
    readonly logged: boolean,
  ) {}

  get(key: string): V | undefined {
    if (this.pending.has(key)) return this.pending.get(key) ?? undefined;
    return this.committed.get(key);
  }

  put(key: string, value: V): void {
    this.pending.set(key, value);
  }

  delete(key: string): void {
    this.pending.set(key, null);
  }

  *all(): IterableIterator<[string, V]> {
    for (const [key, value] of this.committed) if (!this.pending.has(key)) yield [key, value];
    for (const [key, value] of this.pending) if (value !== null) yield [key, value];
  }

  get size(): number {
    let size = this.committed.size;
    for (const [key, value] of this.pending) {
      const existed = this.committed.has(key);
      if (value === null && existed) size--;
      else if (value !== null && !existed) size++;
    }
    return size;
  }

  /** The pending writes (last write per key), without applying them. */
  pendingChanges(): StoreChange[] {
    return [...this.pending].map(([key, value]) => ({ key, value }));
  }

  /** Applies the pending writes and returns them (in write order, last write per key). */
  commit(): StoreChange[] {
    const changes: StoreChange[] = [];
    for (const [key, value] of this.pending) {
      if (value === null) this.committed.delete(key);
      else this.committed.set(key, value);
      changes.push({ key, value });
    }
    this.pending.clear();
    return changes;
  }

  abort(): void {
    this.pending.clear();
  }

  /** Loads a changelog (or global topic) record straight into committed state. */
  restore(key: string, value: V | null): void {
    if (value === null) this.committed.delete(key);
    else this.committed.set(key, value);
  }

  clear(): void {
    this.committed.clear();
    this.pending.clear();
  }
}

/** A store whose changes are logged to a compacted changelog topic and restored from it. */
export function keyValueStore<V>(name: string, options: { logged?: boolean } = {}): StoreBuilder<InMemoryKeyValueStore<V>> {
  const logged = options.logged ?? true;
  return { name, logged, build: () => new InMemoryKeyValueStore<V>(name, logged) };
}
