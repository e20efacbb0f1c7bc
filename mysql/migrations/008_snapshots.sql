-- `shopstream snapshot` (snapshot/): a run's plan, frozen when it is created, and one checkpoint
-- per entity, moved in the transaction that writes a chunk's events to the outbox, so a killed
-- run resumes after its last committed chunk. `unfinished` is 1 while a run is under way and
-- NULL once it finished: the unique key lets one run at a time be unfinished.
CREATE TABLE IF NOT EXISTS snapshot_runs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  plan TEXT NOT NULL,
  started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  finished_at DATETIME(6) NULL,
  unfinished TINYINT NULL,
  UNIQUE KEY uq_snapshot_unfinished (unfinished)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS snapshot_progress (
  run_id BIGINT NOT NULL,
  entity VARCHAR(16) NOT NULL,
  up_to CHAR(36) NULL,
  last_key CHAR(36) NULL,
  rows_done BIGINT NOT NULL DEFAULT 0,
  events BIGINT NOT NULL DEFAULT 0,
  chunks INT NOT NULL DEFAULT 0,
  done TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, entity),
  CONSTRAINT fk_snapshot_progress_run FOREIGN KEY (run_id) REFERENCES snapshot_runs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
