import avro from 'avsc';

/**
 * Avro `decimal` on `bytes` (big-endian two's complement of the unscaled value), surfaced in
 * JavaScript as the decimal string the domain uses ("12.30"). Values with more fraction digits
 * than the scale, or more digits than the precision, are rejected rather than rounded.
 */
export class DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const attrs = schema as { precision?: number; scale?: number };
    this.precision = attrs.precision ?? 38;
    this.scale = attrs.scale ?? 0;
  }

  protected override _fromValue(buffer: Buffer): string {
    return formatUnscaled(fromTwosComplement(buffer), this.scale);
  }

  protected override _toValue(value: unknown): Buffer {
    if (typeof value !== 'string') throw new TypeError(`decimal value must be a string, got ${typeof value}`);
    const unscaled = parseUnscaled(value, this.scale);
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
    if (digits > this.precision) throw new RangeError(`${value} exceeds decimal precision ${this.precision}`);
    return toTwosComplement(unscaled);
  }

  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    if (type instanceof DecimalType && type.scale === this.scale) return (value) => value;
    return undefined;
  }

  protected override _export(attrs: avro.Schema): void {
    Object.assign(attrs as object, { precision: this.precision, scale: this.scale });
  }
}

export function parseUnscaled(value: string, scale: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) throw new TypeError(`"${value}" is not a decimal number`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale) throw new RangeError(`"${value}" has more than ${scale} decimal places`);
  const unscaled = BigInt(whole! + fraction.padEnd(scale, '0'));
  return sign === '-' ? -unscaled : unscaled;
}

export function formatUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/** The shortest big-endian two's complement encoding of `value`. */
function toTwosComplement(value: bigint): Buffer {
  let width = 1;
  while (value < -(1n << BigInt(width * 8 - 1)) || value >= 1n << BigInt(width * 8 - 1)) width++;
  const unsigned = value < 0n ? (1n << BigInt(width * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(width * 2, '0'), 'hex');
}

function fromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt(`0x${bytes.toString('hex')}`);
  return (bytes[0]! & 0x80) !== 0 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}
