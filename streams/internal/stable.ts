import { KafkaJS } from '@confluentinc/kafka-javascript';
import { sleep } from '../../core/retry.js';
import type { Admin } from '../../kafka/client.js';

/**
 * Resolves once no transaction is open on partition `partition` of any of `topics`: its last
 * stable offset (how far read_committed readers get) equals its high watermark.
 *
 * Why a restore waits for this: a transaction left open by an instance that died is aborted only
 * when it times out, and until then read_committed readers stop in front of it, also in front of
 * transactions committed after it (by the next owner of the partition). A changelog restored in
 * that window would miss those commits while the input offsets include them: state older than the
 * offsets. Once nothing is open, reading to the end reads everything committed.
 *
 * `onWaiting` is called about every `reportEveryMs` while it waits; `signal` stops the wait. Offsets
 * that cannot be fetched count as open (asked again), so a broker hiccup delays, never skips, it.
 */
export async function awaitNoOpenTransaction(
  admin: Admin,
  topics: string[],
  partition: number,
  options: { pollMs?: number; reportEveryMs?: number; onWaiting?: (waitedMs: number, open: string[]) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const { pollMs = 200, reportEveryMs = 5_000, onWaiting, signal } = options;
  const started = Date.now();
  let reported = started;
  for (;;) {
    const open: string[] = [];
    for (const topic of topics) {
      try {
        const [high, stable] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED }),
        ]);
        const at = (offsets: { partition: number; offset: string }[]) => offsets.find((p) => p.partition === partition)?.offset;
        if (at(high) !== at(stable)) open.push(topic);
      } catch {
        open.push(topic); // offsets not known (the broker is unreachable for now): ask again
      }
    }
    if (open.length === 0 || signal?.aborted) return;
    if (Date.now() - reported >= reportEveryMs) {
      reported = Date.now();
      onWaiting?.(reported - started, open);
    }
    await sleep(pollMs, signal).catch(() => undefined);
  }
}
