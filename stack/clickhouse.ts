import { createClickHouse, describeClickHouse } from '../clickhouse/client.js';
import type { ServiceStatus, StackOptions } from './options.js';

const SERVICE = 'ClickHouse';

/**
 * The embedded engine has no process to start: it lives inside the application process that
 * owns its data folder. `up` and `status` prove the engine loads (in a throw-away in-memory
 * session, so they never contend with the application for the data folder); with a server URL
 * they ping the server instead.
 */
export async function clickhouseUp(options: StackOptions): Promise<void> {
  const status = await clickhouseStatus(options);
  if (!status.healthy) throw new Error(`${SERVICE}: ${status.detail}`);
  options.say(`  ${SERVICE}: ${status.address} (${status.version}) ready`);
}

export async function clickhouseStatus(options: StackOptions): Promise<ServiceStatus> {
  const embedded = !options.clickhouseUrl;
  const address = describeClickHouse({ url: options.clickhouseUrl, path: options.clickhousePath });
  const client = createClickHouse({ url: options.clickhouseUrl, path: embedded ? ':memory:' : options.clickhousePath });
  try {
    const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = await result.json<{ v: string }>();
    return { service: SERVICE, healthy: true, address, version: row?.v, mode: embedded ? 'embedded' : 'external' };
  } catch (error) {
    return { service: SERVICE, healthy: false, address, mode: embedded ? 'embedded' : 'absent', detail: (error as Error).message };
  } finally {
    await client.close().catch(() => undefined);
  }
}
