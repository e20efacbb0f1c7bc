-- Analytics facts and the first exact aggregate (SPEC §6). ${db} is the analytics database.
-- Every table that receives inserts or feeds views keeps a deduplication window, so a batch
-- re-sent with the same insert_deduplication_token is dropped from it and from its views.

-- Latest state of every order: one row per (order_id, version); FINAL keeps the highest version
-- and hides orders whose latest version is a delete. Deleted rows disappear 7 days after deletion.
CREATE TABLE IF NOT EXISTS ${db}.orders (
  order_id UUID,
  version UInt64,
  is_deleted UInt8,
  user_id UUID,
  user_name String,
  status LowCardinality(String),
  total_amount Decimal(12, 2),
  currency LowCardinality(String),
  item_count UInt32,
  payment_method LowCardinality(String),
  payment_status LowCardinality(String),
  created_at DateTime64(6, 'UTC'),
  updated_at DateTime64(6, 'UTC'),
  committed_at DateTime64(6, 'UTC') COMMENT 'outbox commit time of the change',
  ingested_at DateTime64(6, 'UTC') DEFAULT now64(6) COMMENT 'when the row became queryable'
) ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(created_at)
ORDER BY order_id
TTL toDateTime(updated_at) + INTERVAL 7 DAY DELETE WHERE is_deleted = 1
SETTINGS non_replicated_deduplication_window = 10000;

-- Signed changes: for each new version of an order, the retraction (sign = -1) of the state it
-- replaces and the addition (sign = +1) of the new state. Sums over sign are exact under status
-- changes, cancellations, refunds and deletes. A state is counted when it is not deleted and
-- its status is neither CANCELLED nor REFUNDED (SPEC §6); `counted` records that per row.
CREATE TABLE IF NOT EXISTS ${db}.order_changes (
  order_id UUID,
  version UInt64,
  sign Int8,
  counted UInt8,
  is_deleted UInt8,
  user_id UUID,
  status LowCardinality(String),
  total_amount Decimal(12, 2),
  currency LowCardinality(String),
  payment_method LowCardinality(String),
  created_at DateTime64(6, 'UTC'),
  items Array(Tuple(product_id UUID, quantity UInt32, line_total Decimal(12, 2))),
  committed_at DateTime64(6, 'UTC'),
  ingested_at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (order_id, version, sign)
SETTINGS non_replicated_deduplication_window = 10000;

-- Daily sales of counted orders by the UTC day of their creation.
CREATE TABLE IF NOT EXISTS ${db}.daily_sales (
  day Date,
  orders Int64,
  revenue Decimal(18, 2)
) ENGINE = SummingMergeTree
ORDER BY day
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.daily_sales_mv TO ${db}.daily_sales AS
SELECT
  toDate(created_at, 'UTC') AS day,
  sum(toInt64(sign)) AS orders,
  sum(total_amount * sign) AS revenue
FROM ${db}.order_changes
WHERE counted = 1
GROUP BY day;
