-- The built-in sink's ledger: the offset range it loads next per topic partition, written before
-- the range's insert. The latest range (by first offset) wins whatever order the rows arrive in,
-- so a write that timed out and landed late cannot take a partition's state back; the sink
-- rebuilds that range exactly (same records, same deduplication token) after any failure.
CREATE TABLE IF NOT EXISTS ${db}.sink_ranges (
  topic String,
  partition UInt32,
  first UInt64,
  last UInt64,
  recorded_at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = ReplacingMergeTree(first)
ORDER BY (topic, partition);
