-- The canary's heartbeats (canary/): one row per heartbeat, written with its outbox row in one
-- transaction and stamped with that row's commit time, so a watcher in any process knows what
-- was emitted and when. Purged after a day by the emitters, oldest first via idx_canary_emitted.
CREATE TABLE IF NOT EXISTS canary_heartbeats (
  id CHAR(36) NOT NULL PRIMARY KEY,
  kafka_partition INT NOT NULL,
  emitted_at DATETIME(6) NOT NULL,
  KEY idx_canary_emitted (emitted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
