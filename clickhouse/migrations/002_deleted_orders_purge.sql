-- Deleted orders leave ClickHouse through DeletedOrderPurger (clickhouse/purge.ts), not a TTL.
-- The TTL of 001 (`DELETE WHERE is_deleted = 1`) removed a delete row from its part on its own,
-- in a TTL merge or MATERIALIZE TTL of that part, while an older version of the order could sit
-- in another, unmerged part: that version became the latest and the deleted order reappeared
-- under FINAL. The purger removes every version of a deleted order, older versions first.
ALTER TABLE ${db}.orders REMOVE TTL;
