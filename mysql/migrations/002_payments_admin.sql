-- Payments, administration, API tokens and idempotency (SPEC §3, §7). MySQL 8 and MariaDB.

-- One captured payment per order (the payment aggregate is keyed by its order).
CREATE TABLE IF NOT EXISTS payments (
  id CHAR(36) NOT NULL PRIMARY KEY,
  order_id CHAR(36) NOT NULL,
  method VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  currency CHAR(3) NOT NULL,
  version INT NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  UNIQUE KEY uq_payments_order (order_id),
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT chk_payments_amount CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Bearer tokens for the admin API: only a SHA-256 of the secret is stored.
CREATE TABLE IF NOT EXISTS api_tokens (
  id CHAR(36) NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  role VARCHAR(16) NOT NULL,
  token_hash CHAR(64) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  revoked_at DATETIME(6) NULL,
  UNIQUE KEY uq_api_tokens_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every admin call: who (token name), what (action and target), why (reason), when, outcome.
CREATE TABLE IF NOT EXISTS admin_audit (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  actor VARCHAR(200) NOT NULL,
  token_id CHAR(36) NULL,
  action VARCHAR(64) NOT NULL,
  target VARCHAR(200) NULL,
  reason VARCHAR(500) NULL,
  outcome VARCHAR(16) NOT NULL,
  detail VARCHAR(2000) NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY idx_admin_audit_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Idempotency-Key of order creation: the first request's body hash and its response, so a
-- repeat gets the same response and another body under the same key is refused.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  idem_key VARCHAR(200) NOT NULL PRIMARY KEY,
  request_hash CHAR(64) NOT NULL,
  response_status INT NOT NULL,
  response_body LONGTEXT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY idx_idempotency_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
