import { configFromEnv } from '../../cli/config.js';
import { stackUp } from '../../stack/stack.js';

/** Brings the real local stack up once per run (idempotent; `npm test` has already done it). */
export default async function setup(): Promise<void> {
  const config = configFromEnv();
  await stackUp({ ...config.stack, say: () => undefined });
}
