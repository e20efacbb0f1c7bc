/**
 * Pure helpers of the dashboard: money stays the API's decimal string (at most two places) and
 * is only ever computed on as integer cents in bigint; dates are UTC `YYYY-MM-DD` as the API's.
 */

const MONEY = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/** "1234.5" → 123450n. Throws on anything that is not a decimal string with at most 2 places. */
export function toCents(amount: string): bigint {
  const match = MONEY.exec(amount);
  if (!match) throw new Error(`not a decimal amount: ${JSON.stringify(amount)}`);
  const cents = BigInt(match[2]!) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -cents : cents;
}

/** 123450n → "1,234.50" (thousands grouped with commas, two places). */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '−' : ''}${whole}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** The API's decimal string as shown: "1234.5" → "1,234.50". */
export function formatMoney(amount: string): string {
  return formatCents(toCents(amount));
}

/** 12345 → "12,345". */
export function formatCount(count: number): string {
  return String(Math.trunc(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface Change {
  /** "+12.5%", "−3.0%", "±0.0%", "new" (nothing before), "—" (nothing either time). */
  text: string;
  direction: 'up' | 'down' | 'flat' | 'none';
}

/**
 * The change from `previous` to `current` in percent with one decimal, rounded half away from
 * zero, computed exactly on integers (counts, or money as cents).
 */
export function percentChange(current: bigint, previous: bigint): Change {
  if (previous === 0n) return current === 0n ? { text: '—', direction: 'none' } : { text: 'new', direction: 'up' };
  const diff = current - previous;
  const den = previous < 0n ? -previous : previous;
  const num = diff < 0n ? -diff : diff;
  const tenths = (num * 2000n + den) / (den * 2n);
  const text = `${(tenths / 10n).toString()}.${(tenths % 10n).toString()}%`;
  if (tenths === 0n) return { text: `±${text}`, direction: 'flat' };
  return diff > 0n ? { text: `+${text}`, direction: 'up' } : { text: `−${text}`, direction: 'down' };
}

/** Money change: from the API's two decimal strings. */
export function moneyChange(current: string, previous: string): Change {
  return percentChange(toCents(current), toCents(previous));
}

export function countChange(current: number, previous: number): Change {
  return percentChange(BigInt(current), BigInt(previous));
}

const DAY_MS = 86_400_000;

/** Today in UTC, `YYYY-MM-DD`. */
export function utcToday(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Every day of [from, to], ascending. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

export interface Ranges {
  current: { from: string; to: string };
  previous: { from: string; to: string };
}

/** The last `days` UTC days up to today, and the as many days before them. */
export function rangesEndingToday(days: number, nowMs: number): Ranges {
  const to = utcToday(nowMs);
  const from = addDays(to, -(days - 1));
  return { current: { from, to }, previous: { from: addDays(from, -days), to: addDays(from, -1) } };
}

/** "2026-12-03T14:05:12.345678Z" → "2026-12-03 14:05:12 UTC". */
export function formatUtcTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** Seconds for people: "0.12 s", "8.4 s", "3 min 5 s", "2 h 10 min". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'n/a';
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** "SHIPPED" → "Shipped", "BANK_TRANSFER" → "Bank transfer". */
export function label(constant: string): string {
  const words = constant.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
