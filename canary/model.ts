/**
 * The canary: a synthetic heartbeat that travels the whole pipeline (MySQL outbox → relay → Kafka
 * → streams → sink → ClickHouse) through the same processes, groups and transactions as the
 * orders, and touches no sales figure. Its emit time is its outbox row's commit time, the
 * `committed_at` every stage measures end-to-end latency from.
 */

/** The outbox payload of a heartbeat (Avro dev.shopstream.canary.PipelineHeartbeat, shop.canary.v1). */
export interface PipelineHeartbeatPayload {
  heartbeatId: string;
  /** The partition of shop.canary.v1 its key (the heartbeat id) was chosen for. */
  partition: number;
}

/** A heartbeat as the streams processed it (PipelineCanary, shop.pipeline-canary.v1 → analytics.pipeline_canary). */
export interface PipelineCanaryRecord {
  heartbeat_id: string;
  /** Outbox commit time, epoch µs. */
  emitted_at: number;
  /** The partition of shop.canary.v1 the streams read it from. */
  partition: number;
  /** When the streams processed it, epoch µs. */
  processed_at: number;
}

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), which the Java producer's
 * default partitioner and librdkafka's `murmur2_random` (the relay's producer) hash keys with.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition a keyed record goes to with murmur2 partitioning (positive hash modulo the count). */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/**
 * An id for a heartbeat meant for `partition`: ids from `uuid` until one hashes there (about
 * `partitions` tries), so heartbeats keyed by their ids rotate over the partitions as asked.
 */
export function heartbeatIdFor(partition: number, partitions: number, uuid: () => string): string {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) throw new RangeError(`partition ${partition} is not one of 0..${partitions - 1}`);
  for (;;) {
    const id = uuid();
    if (partitionOf(id, partitions) === partition) return id;
  }
}
