import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { ConfigError } from '../core/errors.js';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface ClickHouseOptions {
  /** ClickHouse server URL (http://user:password@host:8123). When unset, the embedded engine is used. */
  url: string | undefined;
  /** Data folder of the embedded engine (chdb); one process owns it at a time. Default `.stack/clickhouse`. */
  path: string;
  /** Database holding the analytics tables. Default `analytics`. */
  database: string;
}

export const DEFAULT_CLICKHOUSE_OPTIONS: ClickHouseOptions = { url: undefined, path: '.stack/clickhouse', database: 'analytics' };

/**
 * One @clickhouse/client for both deployments: over HTTP to a server when `url` is set, otherwise
 * in-process through chdb's Connection. Queries therefore name tables as `<database>.<table>`
 * (the embedded connection has no session default database).
 */
export function createClickHouse(options: Partial<ClickHouseOptions> = {}): ClickHouseClient {
  const { url, path, database } = { ...DEFAULT_CLICKHOUSE_OPTIONS, ...options };
  assertIdentifier(database);
  const clickhouse_settings = {
    output_format_json_quote_decimals: 1,
    output_format_json_quote_64bit_integers: 1,
  } as const;
  if (url) return createClient({ url, clickhouse_settings, request_timeout: 30_000 });
  // chdb implements @clickhouse/client-common's Connection; @clickhouse/client 1.23 bundles an
  // identical copy of those types, so the two only differ in name.
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  return createClient({ connection, clickhouse_settings });
}

/** Database and table names are validated identifiers; every value goes through query_params. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new ConfigError(`"${name}" is not a valid ClickHouse identifier`);
  return name;
}

export function describeClickHouse(options: Partial<ClickHouseOptions>): string {
  const { url, path } = { ...DEFAULT_CLICKHOUSE_OPTIONS, ...options };
  return url ? new URL(url).host : `embedded (chdb) at ${path}`;
}
