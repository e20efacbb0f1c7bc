import { KafkaJS } from '@confluentinc/kafka-javascript';
import { sleep } from '../../core/retry.js';
import type { Admin } from '../../kafka/client.js';

/**
 * Resolves once no transaction is open on any of `partitions` of any of `topics`: each one's last
 * stable offset (how far read_committed readers get) equals its high watermark.
 *
 * Why a restore waits for this: a transaction left open by an instance that died is aborted only
 * when it times out, and until then read_committed readers stop in front of it, also in front of
 * transactions committed after it (by the next owner of the partition). A changelog restored in
 * that window would miss those commits while the input offsets include them: state older than the
 * offsets. Once nothing is open, reading to the end reads everything committed.
 *
 * `onWaiting` is called about every `reportEveryMs` with the partitions still open (`topic:p`);
 * `signal` stops the wait. Offsets that cannot be fetched count as open (asked again), so a broker
 * hiccup delays the check, never skips it.
 */
export async function awaitNoOpenTransaction(
  admin: Admin,
  topics: string[],
  partitions: number[],
  options: { pollMs?: number; reportEveryMs?: number; onWaiting?: (waitedMs: number, open: string[]) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const { pollMs = 200, reportEveryMs = 5_000, onWaiting, signal } = options;
  const started = Date.now();
  let reported = started;
  if (partitions.length === 0) return;
  for (;;) {
    const open: string[] = [];
    for (const topic of topics) {
      try {
        const [high, stable] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED }),
        ]);
        const at = (offsets: { partition: number; offset: string }[], partition: number) => offsets.find((p) => p.partition === partition)?.offset;
        for (const partition of partitions) if (at(high, partition) !== at(stable, partition)) open.push(`${topic}:${partition}`);
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
