import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, daysOf, formatCents, formatMoney, moneyChange, percentChange, rangesEndingToday, toCents } from '../../web/src/format.js';

/** The dashboard's own arithmetic: money as bigint cents from the API's strings, never a float. */
describe('dashboard formatting', () => {
  it('shows the API decimal string exactly, grouped', () => {
    expect(formatMoney('0')).toBe('0.00');
    expect(formatMoney('5.5')).toBe('5.50');
    expect(formatMoney('1234567.89')).toBe('1,234,567.89');
    expect(formatMoney('9999999999.99')).toBe('9,999,999,999.99');
    expect(formatMoney('-1000.01')).toBe('−1,000.01');
    expect(() => toCents('1.234')).toThrow();
    expect(() => toCents('1e3')).toThrow();
  });

  it('keeps every cent of amounts no float holds exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), (cents) => {
        const text = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
        expect(toCents(text)).toBe(cents);
        expect(formatCents(cents).replace(/,/g, '')).toBe(text);
      }),
    );
  });

  it('computes the change in percent exactly, rounded half away from zero to one place', () => {
    expect(percentChange(110n, 100n)).toEqual({ text: '+10.0%', direction: 'up' });
    expect(percentChange(90n, 100n)).toEqual({ text: '−10.0%', direction: 'down' });
    expect(percentChange(100n, 100n)).toEqual({ text: '±0.0%', direction: 'flat' });
    expect(percentChange(5n, 0n)).toEqual({ text: 'new', direction: 'up' });
    expect(percentChange(0n, 0n)).toEqual({ text: '—', direction: 'none' });
    // 1/3 = 33.33…% and 2/3 = 66.66…%; 1.0005 → 0.05% rounds up to 0.1%.
    expect(percentChange(4n, 3n).text).toBe('+33.3%');
    expect(percentChange(5n, 3n).text).toBe('+66.7%');
    expect(moneyChange('1000.50', '1000.00').text).toBe('+0.1%');
    expect(moneyChange('1000.49', '1000.00').text).toBe('±0.0%');
    // Sums beyond 2^53 cents, where a float would lose the difference.
    expect(moneyChange('90071992547409.93', '90071992547409.92').direction).toBe('flat');
    expect(moneyChange('90071992547409.93', '45035996273704.96').text).toBe('+100.0%');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 15n }), (current, previous) => {
        const tenths = BigInt(percentChange(current, previous).text.replace(/[^\d]/g, ''));
        const exact = ((current - previous) * 1000n) / previous; // truncated toward zero
        const abs = exact < 0n ? -exact : exact;
        expect(tenths === abs || tenths === abs + 1n).toBe(true);
      }),
    );
  });

  it('names UTC day ranges and the range before', () => {
    const now = Date.parse('2026-03-01T00:30:00Z');
    expect(rangesEndingToday(7, now)).toEqual({ current: { from: '2026-02-23', to: '2026-03-01' }, previous: { from: '2026-02-16', to: '2026-02-22' } });
    expect(rangesEndingToday(1, now)).toEqual({ current: { from: '2026-03-01', to: '2026-03-01' }, previous: { from: '2026-02-28', to: '2026-02-28' } });
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(daysOf('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
  });
});
