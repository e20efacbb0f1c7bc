-- Analytics facts and exact aggregates (SPEC §6). ${db} is the analytics database.
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
  currency LowCardinality(String),
  total_amount Decimal(12, 2),
  item_count UInt32,
  items Array(Tuple(line_no UInt16, product_id UUID, product_name String, category String, quantity UInt32, unit_price Decimal(12, 2), line_total Decimal(12, 2))),
  payment_method LowCardinality(String),
  payment_status LowCardinality(String),
  created_at DateTime64(6, 'UTC'),
  updated_at DateTime64(6, 'UTC'),
  committed_at DateTime64(6, 'UTC') COMMENT 'outbox commit time of the change',
  ingested_at DateTime64(6, 'UTC') DEFAULT now64(6) COMMENT 'when the row became queryable',
  INDEX idx_orders_user user_id TYPE bloom_filter GRANULARITY 4
) ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(created_at)
ORDER BY order_id
TTL toDateTime(updated_at) + INTERVAL 7 DAY DELETE WHERE is_deleted = 1
SETTINGS non_replicated_deduplication_window = 10000;

-- Items of the latest state of every order, derived from `orders`.
CREATE TABLE IF NOT EXISTS ${db}.order_items (
  order_id UUID,
  line_no UInt16,
  version UInt64,
  is_deleted UInt8,
  product_id UUID,
  product_name String,
  category LowCardinality(String),
  quantity UInt32,
  unit_price Decimal(12, 2),
  line_total Decimal(12, 2),
  created_at DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(created_at)
ORDER BY (order_id, line_no)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.order_items_mv TO ${db}.order_items AS
SELECT order_id, item.line_no AS line_no, version, is_deleted, item.product_id AS product_id, item.product_name AS product_name,
       item.category AS category, item.quantity AS quantity, item.unit_price AS unit_price, item.line_total AS line_total, created_at
FROM ${db}.orders ARRAY JOIN items AS item;

-- Signed changes: for each new version of an order, the retraction (sign = -1) of the state it
-- replaces and the addition (sign = +1) of the new state. Sums over sign are exact under status
-- changes, cancellations, refunds and deletes. `counted`: the state is neither deleted nor
-- CANCELLED or REFUNDED (SPEC §6).
CREATE TABLE IF NOT EXISTS ${db}.order_changes (
  order_id UUID,
  version UInt64,
  sign Int8,
  counted UInt8,
  is_deleted UInt8,
  user_id UUID,
  status LowCardinality(String),
  currency LowCardinality(String),
  total_amount Decimal(12, 2),
  payment_method LowCardinality(String),
  created_at DateTime64(6, 'UTC'),
  items Array(Tuple(product_id UUID, product_name String, category String, quantity UInt32, line_total Decimal(12, 2))),
  committed_at DateTime64(6, 'UTC'),
  ingested_at DateTime64(6, 'UTC') DEFAULT now64(6)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (order_id, version, sign)
SETTINGS non_replicated_deduplication_window = 10000;

-- The aggregates, fed by three materialized views from the signed rows (every view adds a part
-- per insert, so they are few): sales per hour (days and totals are sums of hours), per product
-- and day, and per dimension value (status, payment method, user).

-- Counted orders and revenue per UTC hour of creation; also the newest change applied.
CREATE TABLE IF NOT EXISTS ${db}.hourly_sales (
  hour DateTime('UTC'),
  orders Int64,
  revenue Decimal(18, 2),
  newest_committed_at SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
) ENGINE = SummingMergeTree ORDER BY hour SETTINGS non_replicated_deduplication_window = 10000;
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.hourly_sales_mv TO ${db}.hourly_sales AS
SELECT toStartOfHour(created_at, 'UTC') AS hour, sumIf(toInt64(sign), counted = 1) AS orders,
       sumIf(total_amount * sign, counted = 1) AS revenue, max(committed_at) AS newest_committed_at
FROM ${db}.order_changes GROUP BY hour;

-- Units and revenue (quantity × unit price) of the items of counted orders, per day and product.
CREATE TABLE IF NOT EXISTS ${db}.product_sales (
  day Date,
  product_id UUID,
  product_name SimpleAggregateFunction(anyLast, String),
  category SimpleAggregateFunction(anyLast, String),
  units Int64,
  revenue Decimal(18, 2)
) ENGINE = SummingMergeTree ORDER BY (day, product_id) SETTINGS non_replicated_deduplication_window = 10000;
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.product_sales_mv TO ${db}.product_sales AS
SELECT toDate(created_at, 'UTC') AS day, item.product_id AS product_id, anyLast(item.product_name) AS product_name,
       anyLast(item.category) AS category, sum(toInt64(item.quantity) * sign) AS units, sum(item.line_total * sign) AS revenue
FROM ${db}.order_changes ARRAY JOIN items AS item WHERE counted = 1 GROUP BY day, product_id;

-- Orders and revenue per value of a dimension:
--   status          every non-deleted order by its current status (cancelled, refunded included)
--   payment_method  counted orders with a captured payment, by method
--   user            counted orders per user (customers: users with at least one)
CREATE TABLE IF NOT EXISTS ${db}.dimension_sales (
  dimension LowCardinality(String),
  key String,
  orders Int64,
  revenue Decimal(18, 2)
) ENGINE = SummingMergeTree ORDER BY (dimension, key) SETTINGS non_replicated_deduplication_window = 10000;
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.dimension_sales_mv TO ${db}.dimension_sales AS
SELECT d.1 AS dimension, d.2 AS key, sum(toInt64(sign)) AS orders, sum(total_amount * sign) AS revenue
FROM ${db}.order_changes
ARRAY JOIN arrayFilter(x -> x.3 = 1, [
  ('status', toString(status), toUInt8(is_deleted = 0)),
  ('payment_method', toString(payment_method), toUInt8(counted = 1 AND payment_method != '')),
  ('user', toString(user_id), counted)
]) AS d
GROUP BY dimension, key;
