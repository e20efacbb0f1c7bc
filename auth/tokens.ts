import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../core/errors.js';

/**
 * Admin API tokens. A token is `sst_` + 32 random bytes (base64url); it is shown once when
 * created and only its SHA-256 is stored, so a database leak yields no usable token. `admin`
 * may do everything; `viewer` may only read admin resources (the audit log).
 */
export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface TokenRecord extends Principal {
  tokenHash: string;
  revokedAt: number | null;
}

export interface AuditEntry {
  actor: string;
  tokenId: string | null;
  action: string;
  target: string | null;
  reason: string | null;
  outcome: 'ok' | 'rejected' | 'failed';
  detail: string | null;
}

export interface TokenStore {
  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Revokes every live token of that name; returns how many. */
  revokeTokens(name: string): Promise<number>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function createToken(store: TokenStore, input: { name: string; role: string }): Promise<{ token: string; principal: Principal }> {
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new ValidationError(`role must be one of ${ROLES.join(', ')}`, [{ field: 'role', message: `unknown role "${input.role}"` }]);
  }
  if (!/^[\w.@ -]{1,200}$/.test(input.name)) {
    throw new ValidationError('name must be 1-200 letters, digits, spaces or . _ @ -', [{ field: 'name', message: 'invalid name' }]);
  }
  const token = `sst_${randomBytes(32).toString('base64url')}`;
  const principal: Principal = { tokenId: randomUUID(), name: input.name, role: input.role as Role };
  await store.insertToken({ ...principal, tokenHash: hashToken(token), revokedAt: null });
  return { token, principal };
}

/** The principal of an `Authorization: Bearer <token>` header; UNAUTHORIZED for anything else. */
export async function authenticate(store: TokenStore, authorization: string | undefined): Promise<Principal> {
  const match = /^Bearer\s+(sst_[A-Za-z0-9_-]{43})\s*$/.exec(authorization ?? '');
  if (!match) throw new UnauthorizedError();
  const record = await store.findTokenByHash(hashToken(match[1]!));
  if (!record || record.revokedAt !== null) throw new UnauthorizedError('the bearer token is unknown or revoked');
  return { tokenId: record.tokenId, name: record.name, role: record.role };
}

export function requireRole(principal: Principal, allowed: readonly Role[]): void {
  if (!allowed.includes(principal.role)) {
    throw new ForbiddenError(`the token of ${principal.name} has role ${principal.role}; this needs ${allowed.join(' or ')}`);
  }
}
