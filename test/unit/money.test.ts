import { describe, expect, it } from 'vitest';
import { averageMoney, fromCents, multiplyMoney, normalizeMoney, sumMoney, toCents } from '../../orders/money.js';
import { ValidationError } from '../../core/errors.js';

describe('money', () => {
  it('parses decimal strings exactly into cents', () => {
    expect(toCents('0')).toBe(0n);
    expect(toCents('12.3')).toBe(1230n);
    expect(toCents('12.34')).toBe(1234n);
    expect(toCents('-0.01')).toBe(-1n);
    expect(toCents('9999999999.99')).toBe(999999999999n);
  });

  it('rejects floats in disguise, three places and junk', () => {
    for (const bad of ['1.234', '1e3', '.5', '01.00', '1,00', '', ' 1', 'NaN', '1.']) {
      expect(() => toCents(bad), bad).toThrow(ValidationError);
    }
  });

  it('formats cents canonically', () => {
    expect(fromCents(0n)).toBe('0.00');
    expect(fromCents(5n)).toBe('0.05');
    expect(fromCents(-1234n)).toBe('-12.34');
    expect(normalizeMoney('7')).toBe('7.00');
    expect(normalizeMoney('7.5')).toBe('7.50');
  });

  it('adds and multiplies without float error', () => {
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30');
    expect(multiplyMoney('19.99', 3)).toBe('59.97');
    expect(sumMoney(Array.from({ length: 1000 }, () => '0.01'))).toBe('10.00');
  });

  it('averages rounding half up to cents', () => {
    expect(averageMoney('10.00', 3)).toBe('3.33');
    expect(averageMoney('0.05', 2)).toBe('0.03'); // 0.025 → 0.03
    expect(averageMoney('0.03', 2)).toBe('0.02'); // 0.015 → 0.02
    expect(averageMoney('-0.05', 2)).toBe('-0.03');
    expect(averageMoney('123.45', 0)).toBe('0.00');
    expect(averageMoney('296.29', 4)).toBe('74.07'); // 74.0725
  });
});
