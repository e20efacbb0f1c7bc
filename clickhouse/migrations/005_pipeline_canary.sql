-- The canary's heartbeats as the streams processed them, loaded from shop.pipeline-canary.v1 (by the
-- built-in sink, or Kafka Connect: column names are the record's field names). No sales figure
-- reads it. The canary watcher reads the heartbeats of the last minutes by emit time; a day later
-- a heartbeat is gone (daily partitions, dropped whole by the TTL).
CREATE TABLE IF NOT EXISTS ${db}.pipeline_canary (
  heartbeat_id UUID,
  emitted_at DateTime64(6, 'UTC') COMMENT 'outbox commit time of the heartbeat',
  partition UInt32 COMMENT 'partition of shop.canary.v1 the streams read it from',
  processed_at DateTime64(6, 'UTC') COMMENT 'when the streams processed it'
) ENGINE = MergeTree
PARTITION BY toDate(emitted_at)
ORDER BY (emitted_at, heartbeat_id)
TTL toDateTime(emitted_at) + INTERVAL 1 DAY DELETE
SETTINGS non_replicated_deduplication_window = 1000, ttl_only_drop_parts = 1;
