import type { Logger } from '../../core/log.js';

/**
 * A Logger that keeps its last `capacity` lines in memory and prints nothing: a test hands it to
 * a client and prints `lines()` only when it fails.
 */
export function ringLog(capacity: number): { logger: Logger; lines: () => string[] } {
  const ring: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    ring.push(`${new Date().toISOString()} ${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    if (ring.length > capacity) ring.shift();
  };
  const logger: Logger = { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: () => logger };
  return { logger, lines: () => [...ring] };
}
