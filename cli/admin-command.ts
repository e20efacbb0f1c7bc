import { createToken } from '../auth/tokens.js';
import { mysqlAdminStore } from '../mysql/admin-store.js';
import { migrateMysql } from '../mysql/migrate.js';
import { createMysqlPool } from '../mysql/pool.js';
import type { EntryConfig } from './config.js';
import { parseAdminArgs } from './flags.js';

/**
 * `shopstream admin create-token --name <who> --role admin|viewer`: prints a new bearer token
 * once (only its hash is stored). `shopstream admin revoke-token --name <who>`: revokes that
 * name's tokens.
 */
export async function adminCommand(config: EntryConfig, args: string[]): Promise<number> {
  const command = parseAdminArgs(args);
  const pool = createMysqlPool({ ...config.mysql, connectionLimit: 1 });
  try {
    await migrateMysql(pool);
    const store = mysqlAdminStore(pool);
    if (command.action === 'create-token') {
      const { token, principal } = await createToken(store, command);
      console.log(`Created ${principal.role === 'admin' ? 'an' : 'a'} ${principal.role} token for ${principal.name}. It is shown only now; keep it secret:\n\n${token}\n`);
      console.log(`Use it as: Authorization: Bearer ${token.slice(0, 8)}…`);
    } else {
      const revoked = await store.revokeTokens(command.name);
      console.log(revoked > 0 ? `Revoked ${revoked} token(s) of ${command.name}.` : `${command.name} has no live token.`);
      if (revoked === 0) return 1;
    }
    return 0;
  } finally {
    await pool.end();
  }
}
