/**
 * Timestamps are epoch microseconds (UTC) everywhere inside shopstream: in events
 * (timestamp-micros), in MySQL DATETIME(6) and in ClickHouse DateTime64(6, 'UTC').
 */

/** Microseconds → "2026-11-24 19:55:18.123456", the text MySQL, MariaDB and ClickHouse all read. */
export function microsToSqlTime(micros: number): string {
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  const fraction = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction}`;
}

/** Microseconds → "2026-11-24T19:55:18.123456Z". */
export function microsToIso(micros: number): string {
  return `${microsToSqlTime(micros).replace(' ', 'T')}Z`;
}

/** "2026-11-24 19:55:18.123456" (UTC, fraction optional) → microseconds. */
export function sqlTimeToMicros(value: string): number {
  const [date, time = '00:00:00'] = value.split(/[ T]/);
  const [clock, fraction = ''] = time.replace('Z', '').split('.');
  return Date.parse(`${date}T${clock}Z`) * 1000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}
