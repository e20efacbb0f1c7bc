import { UnprocessableError, ValidationError } from '../core/errors.js';

/**
 * Money is a decimal string with at most two places ("12.30"), computed exactly as integer
 * cents in bigint. Never a float.
 */
const MONEY = /^-?(0|[1-9]\d{0,17})(\.\d{1,2})?$/;

export function toCents(amount: string, field = 'amount'): bigint {
  if (!MONEY.test(amount)) {
    throw new ValidationError(`${field} must be a decimal string with at most 2 places`, [
      { field, message: `"${amount}" is not a decimal amount with at most 2 places` },
    ]);
  }
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const cents = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  return negative ? -cents : cents;
}

/** The largest amount a DECIMAL(12,2) column (and the Avro decimal of the events) holds: 9,999,999,999.99. */
export const MAX_AMOUNT_CENTS = 999_999_999_999n;

/** Refuses (422 AMOUNT_TOO_LARGE, naming `field`) an amount that DECIMAL(12,2) cannot hold. */
export function assertAmountFits(cents: bigint, field: string, what = 'the amount'): void {
  if (cents > MAX_AMOUNT_CENTS || cents < -MAX_AMOUNT_CENTS) {
    throw new UnprocessableError('AMOUNT_TOO_LARGE', `${what} ${fromCents(cents)} exceeds the largest amount, ${fromCents(MAX_AMOUNT_CENTS)}`, [
      { field, message: 'exceeds 9999999999.99' },
    ]);
  }
}

export function fromCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Normalizes any decimal string with up to 2 places ("5", "5.5") to the canonical form ("5.00", "5.50"). */
export function normalizeMoney(amount: string): string {
  return fromCents(toCents(amount));
}

export function multiplyMoney(amount: string, quantity: number): string {
  return fromCents(toCents(amount) * BigInt(quantity));
}

export function sumMoney(amounts: Iterable<string>): string {
  let total = 0n;
  for (const amount of amounts) total += toCents(amount);
  return fromCents(total);
}

/** amount / count rounded half-up (away from zero) to cents; "0.00" when count is 0. */
export function averageMoney(amount: string, count: number | bigint): string {
  const n = BigInt(count);
  if (n === 0n) return '0.00';
  const cents = toCents(amount);
  const negative = cents < 0n !== n < 0n;
  const num = cents < 0n ? -cents : cents;
  const den = n < 0n ? -n : n;
  const rounded = (num * 2n + den) / (den * 2n);
  return fromCents(negative ? -rounded : rounded);
}
