-- Write rate-limit counters shared by every API replica (API_RATE_LIMIT_STORE=mysql): one row per
-- limited key ('writes:ip:<address>' or 'writes:token:<id>'), the points spent in its current
-- window and when that window ends (epoch ms). The layout is the one rate-limiter-flexible's
-- RateLimiterMySQL reads and writes (key, points, expire, in this order); it deletes rows that
-- expired more than an hour ago every five minutes.
CREATE TABLE IF NOT EXISTS api_rate_limits (
  `key` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
  points INT NOT NULL DEFAULT 0,
  expire BIGINT UNSIGNED NULL,
  KEY idx_api_rate_limits_expire (expire)
) ENGINE=InnoDB;
