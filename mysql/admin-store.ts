import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import sql, { type Sql } from 'sql-template-tag';
import type { AuditEntry, AuditLog, Role, TokenRecord, TokenStore } from '../auth/tokens.js';
import { sqlTimeToMicros } from '../core/time.js';
import { query } from './pool.js';

/** API tokens (hashes only) and the admin audit log on MySQL/MariaDB; an unreachable server is DependencyError('mysql'). */
export function mysqlAdminStore(pool: Pool): TokenStore & AuditLog & { listAudit(limit: number): Promise<(AuditEntry & { at: number })[]> } {
  return {
    async insertToken(token: TokenRecord) {
      const q = sql`INSERT INTO api_tokens (id, name, role, token_hash) VALUES (${token.tokenId}, ${token.name}, ${token.role}, ${token.tokenHash})`;
      await query(pool, q);
    },
    async findTokenByHash(hash) {
      const q = sql`SELECT id, name, role, token_hash, revoked_at FROM api_tokens WHERE token_hash = ${hash}`;
      const [row] = await query<RowDataPacket[]>(pool, q);
      return (
        row && {
          tokenId: row.id as string,
          name: row.name as string,
          role: row.role as Role,
          tokenHash: row.token_hash as string,
          revokedAt: row.revoked_at ? sqlTimeToMicros(row.revoked_at as string) : null,
        }
      );
    },
    async revokeTokens(name) {
      const q = sql`UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP(6) WHERE name = ${name} AND revoked_at IS NULL`;
      return (await query<ResultSetHeader>(pool, q)).affectedRows;
    },
    async record(entry: AuditEntry) {
      await query(pool, auditInsert(entry));
    },
    async listAudit(limit) {
      const q = sql`SELECT actor, token_id, action, target, reason, outcome, detail, created_at FROM admin_audit ORDER BY id DESC LIMIT ${limit}`;
      const rows = await query<RowDataPacket[]>(pool, q);
      return rows.map((row) => ({
        actor: row.actor,
        tokenId: row.token_id,
        action: row.action,
        target: row.target,
        reason: row.reason,
        outcome: row.outcome,
        detail: row.detail,
        at: sqlTimeToMicros(row.created_at),
      }));
    },
  };
}

/** The statement that writes one audit row, values cut to their columns (alone, or in an order-store transaction). */
export function auditInsert(entry: AuditEntry): Sql {
  return sql`INSERT INTO admin_audit (actor, token_id, action, target, reason, outcome, detail)
             VALUES (${entry.actor.slice(0, 200)}, ${entry.tokenId}, ${entry.action.slice(0, 64)}, ${entry.target?.slice(0, 200) ?? null},
                     ${entry.reason?.slice(0, 500) ?? null}, ${entry.outcome}, ${entry.detail?.slice(0, 2000) ?? null})`;
}
