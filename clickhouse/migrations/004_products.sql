-- The catalog as the analytics see it: the latest ProductUpserted of every product (its current
-- name, category and price), loaded from shop.products.v1. Column names are the event's field
-- names, so the built-in sink and Kafka Connect load it alike. Product views (top products) show
-- the current name; the order rows keep the names their versions were enriched with.
CREATE TABLE IF NOT EXISTS ${db}.products (
  productId UUID,
  version UInt32,
  sku String,
  name String,
  category LowCardinality(String),
  price Decimal(12, 2),
  currency LowCardinality(String),
  updatedAt DateTime64(6, 'UTC')
) ENGINE = ReplacingMergeTree(version)
ORDER BY productId
SETTINGS non_replicated_deduplication_window = 10000;
