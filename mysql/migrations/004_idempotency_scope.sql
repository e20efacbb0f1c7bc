-- Idempotency keys are scoped: a key belongs to one route ('POST /api/orders') and one client
-- (the API names it: 'ip:<address>', or 'token:<id>' for an authenticated principal), so the same
-- key from another client or on another route is another key. Keys are purged once older than
-- the retention (24 h by default, orders/idempotency-retention.ts), oldest first via
-- idx_idempotency_created. Rows written before this migration get the empty scope, which no
-- request has: they are no longer matched and age out with the retention.
-- One ALTER statement, so it applies atomically on MySQL 8 and MariaDB.
ALTER TABLE idempotency_keys
  ADD COLUMN route VARCHAR(64) NOT NULL DEFAULT '' FIRST,
  ADD COLUMN client VARCHAR(200) NOT NULL DEFAULT '' AFTER route,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (route, client, idem_key);
