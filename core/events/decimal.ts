/**
 * Exact decimal text: Kafka Connect decimals, DynamoDB numbers and JSON numbers too large for a double are
 * carried as decimal strings so that no digit is lost between the source and the state table.
 *
 * Expanding a decimal costs memory in proportion to its scale or exponent, which a 500-byte record can set
 * to 300,000,000, so both are bounded (see {@link MAX_DECIMAL_SCALE}), as is the unscaled value.
 */

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The largest scale or exponent magnitude a decimal may have: ±100,000, about six times PostgreSQL's largest
 * display scale (16,383; the widest of any database: Oracle allows -84..127, SQL Server and MySQL 38 and 30).
 * A plain decimal at that scale is 100 KB, a quarter of a DynamoDB item.
 */
const MAX_DECIMAL_SCALE = 100_000;

/**
 * The largest unscaled value of a Kafka Connect decimal, in bytes: 64 KiB, 157,826 digits, above the 147,455
 * digits of PostgreSQL's unconstrained NUMERIC (the most any database's decimal holds). Its decimal text
 * takes tens of milliseconds to print; a 1 MiB one would take seconds.
 */
const MAX_UNSCALED_BYTES = 65_536;

/** A decimal beyond {@link MAX_DECIMAL_SCALE} or {@link MAX_UNSCALED_BYTES}. */
class DecimalRangeError extends RangeError {
  public constructor(message: string) {
    super(message);
    this.name = 'DecimalRangeError';
  }
}

function checkScale(scale: number, what: string): void {
  if (Math.abs(scale) > MAX_DECIMAL_SCALE)
    throw new DecimalRangeError(
      `${what} ${scale} is beyond ±${MAX_DECIMAL_SCALE}, far beyond any database's decimal type`,
    );
}

/** Length of the run of `0` characters at the end of `digits` (a loop: `/0+$/` is quadratic on long runs). */
function trailingZeros(digits: string): number {
  let i = digits.length;
  while (i > 0 && digits.charCodeAt(i - 1) === 0x30) i--;
  return digits.length - i;
}

/** Sign, significant digits and base-10 exponent of a decimal text; `undefined` if it is not one. */
function splitDecimal(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) return undefined;
  const fraction = match[3] ?? '';
  let digits = `${match[2]}${fraction}`.replace(/^0+/, '');
  let exponent = Number(match[4] ?? 0) - fraction.length;
  const trailing = trailingZeros(digits);
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
 * A decimal text in plain notation (no exponent), keeping every digit. Throws {@link DecimalRangeError} when
 * that would add more than {@link MAX_DECIMAL_SCALE} zeros (`1e300000000`).
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
  const zeros = exponent >= 0 ? exponent : Math.max(0, -exponent + 1 - digits.length);
  if (zeros > MAX_DECIMAL_SCALE)
    throw new DecimalRangeError(
      `exponent ${exponent} would write ${zeros} zeros, beyond ${MAX_DECIMAL_SCALE}, far beyond any database's decimal type`,
    );
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
 * prints a value of that scale. Never drops digits. Throws {@link DecimalRangeError} for a scale beyond
 * {@link MAX_DECIMAL_SCALE}.
 *
 * @example
 * ```ts
 * withScale('12345.11', 3); // '12345.110'
 * ```
 */
function withScale(plain: string, scale: number): string {
  checkScale(scale, 'scale');
  if (scale <= 0) return plain;
  const dot = plain.indexOf('.');
  const fractionDigits = dot < 0 ? 0 : plain.length - dot - 1;
  if (fractionDigits >= scale) return plain;
  return `${dot < 0 ? `${plain}.` : plain}${'0'.repeat(scale - fractionDigits)}`;
}

/**
 * The decimal `unscaled × 10^-scale` in plain notation, with exactly `scale` fraction digits. Throws
 * {@link DecimalRangeError} for a scale beyond {@link MAX_DECIMAL_SCALE}.
 *
 * @example
 * ```ts
 * decimalFromUnscaled(-12345n, 2); // '-123.45'
 * ```
 */
function decimalFromUnscaled(unscaled: bigint, scale: number): string {
  checkScale(scale, 'scale');
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0 && digits !== '0') digits += '0'.repeat(-scale);
  return negative ? `-${digits}` : digits;
}

/**
 * A big-endian two's complement integer, as Java's `BigInteger.toByteArray` writes it. Parsed from hex in one
 * step: shifting a byte at a time copies the growing value each time, quadratic in its length.
 */
function twosComplementToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const value = BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
  return (bytes[0]! & 0x80) !== 0 ? value - (1n << BigInt(bytes.length * 8)) : value;
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
 * string; `undefined` if `base64` is not base64. Throws {@link DecimalRangeError} for a scale beyond
 * {@link MAX_DECIMAL_SCALE} or an unscaled value over {@link MAX_UNSCALED_BYTES}, before decoding it.
 *
 * @example
 * ```ts
 * decimalFromBase64('AN3h', 2); // '568.01'
 * ```
 */
function decimalFromBase64(base64: string, scale: number): string | undefined {
  checkScale(scale, 'scale');
  // Base64 holds 3 bytes in every 4 characters.
  if (base64.length > Math.ceil(MAX_UNSCALED_BYTES / 3) * 4)
    throw new DecimalRangeError(
      `unscaled value of about ${Math.floor((base64.length * 3) / 4)} bytes is over ${MAX_UNSCALED_BYTES} bytes (157,826 digits), more digits than any database's decimal holds`,
    );
  const bytes = decodeBase64Strict(base64);
  return bytes === undefined ? undefined : decimalFromUnscaled(twosComplementToBigInt(bytes), scale);
}

export {
  DecimalRangeError,
  decimalFromBase64,
  decimalFromUnscaled,
  decodeBase64Strict,
  fitsDouble,
  MAX_DECIMAL_SCALE,
  MAX_UNSCALED_BYTES,
  plainDecimal,
  splitDecimal,
  twosComplementToBigInt,
  withScale,
};
