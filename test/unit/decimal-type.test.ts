import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { DecimalType, formatUnscaled, parseUnscaled } from '../../registry/decimal-type.js';

const type = avro.Type.forSchema(
  { type: 'record', name: 'M', fields: [{ name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } }] },
  { logicalTypes: { decimal: DecimalType as unknown as typeof avro.types.LogicalType } },
);

describe('Avro decimal logical type', () => {
  it('round-trips decimal strings through two\'s complement bytes', () => {
    for (const amount of ['0.00', '0.01', '-0.01', '1.27', '1.28', '-1.28', '-1.29', '327.67', '327.68', '9999999999.99', '-9999999999.99']) {
      const decoded = type.fromBuffer(type.toBuffer({ amount })) as { amount: string };
      expect(decoded.amount, amount).toBe(amount);
    }
  });

  it('encodes the unscaled value as the Avro spec says (big-endian two\'s complement, minimal)', () => {
    const bytesOf = (amount: string) => {
      const buffer = type.toBuffer({ amount });
      return [...buffer.subarray(1)]; // skip the length varint
    };
    expect(bytesOf('1.27')).toEqual([0x7f]);
    expect(bytesOf('1.28')).toEqual([0x00, 0x80]);
    expect(bytesOf('-1.28')).toEqual([0x80]);
    expect(bytesOf('-1.29')).toEqual([0xff, 0x7f]);
  });

  it('refuses values it would have to round or truncate', () => {
    expect(() => type.toBuffer({ amount: '1.234' })).toThrow(/more than 2 decimal places/);
    expect(() => type.toBuffer({ amount: '12345678901.00' })).toThrow(/precision 12/);
    expect(() => type.toBuffer({ amount: 1.5 })).toThrow(/must be a string/);
  });

  it('parses and formats unscaled values', () => {
    expect(parseUnscaled('5', 2)).toBe(500n);
    expect(parseUnscaled('-0.5', 2)).toBe(-50n);
    expect(formatUnscaled(-5n, 2)).toBe('-0.05');
    expect(formatUnscaled(12345n, 0)).toBe('12345');
  });
});
