/**
 * Exact decimal text: Kafka Connect decimals, DynamoDB numbers and JSON numbers too large for a double are
 * carried as decimal strings so that no digit is lost between the source and the state table.
 */

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Sign, significant digits and base-10 exponent of a decimal text; `undefined` if it is not one. */
function splitDecimal(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) return undefined;
  const fraction = match[3] ?? '';
  let digits = `${match[2]}${fraction}`.replace(/^0+/, '');
  let exponent = Number(match[4] ?? 0) - fraction.length;
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  if (trailing > 0) {
    digits = digits.slice(0, -trailing);
    exponent += trailing;
  }
  if (digits === '') return { negative: false, digits: '0', exponent: 0 };
  return { negative: match[1] === '-', digits, exponent };
}

/**
 * True when a JSON number text survives a round trip through a double: `Number(text)` prints back as the
 * same decimal value. `84.84` does; `12345678901234567890` and `1e400` do not.
 *
 * @example
 * ```ts
 * fitsDouble('84.84'); // true
 * fitsDouble('9007199254740993'); // false
 * ```
 */
function fitsDouble(text: string): boolean {
  const value = Number(text);
  if (!Number.isFinite(value)) return false;
  const a = splitDecimal(text);
  const b = splitDecimal(String(value));
  return (
    a !== undefined &&
    b !== undefined &&
    a.negative === b.negative &&
    a.digits === b.digits &&
    a.exponent === b.exponent
  );
}

/**
 * A decimal text in plain notation (no exponent), keeping every digit.
 *
 * @example
 * ```ts
 * plainDecimal('1.2345e+3'); // '1234.5'
 * plainDecimal('-5E-3'); // '-0.005'
 * ```
 */
function plainDecimal(text: string): string | undefined {
  const parts = splitDecimal(text);
  if (parts === undefined) return undefined;
  const { negative, digits, exponent } = parts;
  let plain: string;
  if (exponent >= 0) plain = digits === '0' ? '0' : digits + '0'.repeat(exponent);
  else {
    const padded = digits.padStart(-exponent + 1, '0');
    plain = `${padded.slice(0, exponent)}.${padded.slice(exponent)}`;
  }
  return negative ? `-${plain}` : plain;
}

/**
 * Pads a plain decimal with trailing zeros to `scale` fraction digits, as Java's `BigDecimal.toPlainString`
 * prints a value of that scale. Never drops digits.
 *
 * @example
 * ```ts
 * withScale('12345.11', 3); // '12345.110'
 * ```
 */
function withScale(plain: string, scale: number): string {
  if (scale <= 0) return plain;
  const dot = plain.indexOf('.');
  const fractionDigits = dot < 0 ? 0 : plain.length - dot - 1;
  if (fractionDigits >= scale) return plain;
  return `${dot < 0 ? `${plain}.` : plain}${'0'.repeat(scale - fractionDigits)}`;
}

/**
 * The decimal `unscaled × 10^-scale` in plain notation, with exactly `scale` fraction digits.
 *
 * @example
 * ```ts
 * decimalFromUnscaled(-12345n, 2); // '-123.45'
 * ```
 */
function decimalFromUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0 && digits !== '0') digits += '0'.repeat(-scale);
  return negative ? `-${digits}` : digits;
}

/** A big-endian two's complement integer, as Java's `BigInteger.toByteArray` writes it. */
function twosComplementToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard padded base64; `undefined` when the text is not base64 (Node's own decoder silently skips
 * bad characters, which would turn garbage into plausible bytes).
 *
 * @example
 * ```ts
 * decodeBase64Strict('BNI='); // Uint8Array [4, 210]
 * ```
 */
function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * A Kafka Connect `Decimal` (base64 of the unscaled value's two's complement bytes) as an exact decimal
 * string; `undefined` if `base64` is not base64.
 *
 * @example
 * ```ts
 * decimalFromBase64('AN3h', 2); // '568.01'
 * ```
 */
function decimalFromBase64(base64: string, scale: number): string | undefined {
  const bytes = decodeBase64Strict(base64);
  return bytes === undefined ? undefined : decimalFromUnscaled(twosComplementToBigInt(bytes), scale);
}

export {
  decimalFromBase64,
  decimalFromUnscaled,
  decodeBase64Strict,
  fitsDouble,
  plainDecimal,
  twosComplementToBigInt,
  withScale,
};
