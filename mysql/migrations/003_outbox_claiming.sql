-- Outbox relay: per-row backoff and parking, and the index that finds each aggregate's head
-- (its earliest unpublished row), the only row of an aggregate a relay may claim. The index
-- leaves published_at out on purpose: marking a row published then rewrites one secondary index
-- (idx_outbox_pending), not two; the head probe reads the few rows an aggregate has.
-- One ALTER statement, so it applies atomically on MySQL 8 (which has no ADD COLUMN IF NOT EXISTS).
ALTER TABLE outbox
  ADD COLUMN next_attempt_at DATETIME(6) NULL,
  ADD COLUMN parked_at DATETIME(6) NULL,
  ADD INDEX idx_outbox_head (aggregate_type, aggregate_id, id),
  DROP INDEX idx_outbox_aggregate;
