/**
 * A readers–writer gate for a set of tables swapped in several steps: every read runs inside
 * `read`, a swap inside `exclusive`. A swap waits for the reads in flight and holds new ones back
 * until it is done, so a reader sees the whole set before the swap or the whole set after it,
 * never a mix. Writers are served first: a waiting swap is not starved by a stream of reads.
 * In-process only: readers in another process are not held.
 */
export class SwapGate {
  private readers = 0;
  private writing = false;
  private waitingWriters = 0;
  private wakeups: (() => void)[] = [];

  async read<T>(operation: () => Promise<T>): Promise<T> {
    while (this.writing || this.waitingWriters > 0) await this.wait();
    this.readers++;
    try {
      return await operation();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async exclusive<T>(operation: () => Promise<T>): Promise<T> {
    this.waitingWriters++;
    try {
      while (this.writing || this.readers > 0) await this.wait();
    } finally {
      this.waitingWriters--;
    }
    this.writing = true;
    try {
      return await operation();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  private wake(): void {
    const waiting = this.wakeups;
    this.wakeups = [];
    for (const resolve of waiting) resolve();
  }
}

/** `target` with each of its methods run inside `gate.read` (for a reader port). */
export function gatedReads<T extends object>(target: T, gate: SwapGate): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => gate.read(() => Promise.resolve(value.apply(object, args)));
    },
  });
}
