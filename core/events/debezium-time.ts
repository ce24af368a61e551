/**
 * Debezium and Kafka Connect temporal types, rendered as ISO 8601 strings so that a state item reads the same
 * whatever `time.precision.mode` the connector used:
 *
 * | logical type | wire value | rendered as |
 * |---|---|---|
 * | `io.debezium.time.Date`, `org.apache.kafka.connect.data.Date` | days since epoch | `2023-03-23` |
 * | `io.debezium.time.Time`, `org.apache.kafka.connect.data.Time` | ms of day | `10:13:23.000` |
 * | `io.debezium.time.MicroTime` / `NanoTime` | µs / ns of day | `10:13:23.000000` / 9 digits |
 * | `io.debezium.time.Timestamp` / `MicroTimestamp` / `NanoTimestamp` | ms / µs / ns since epoch, no zone | `2023-03-23T14:30:05.123` (no `Z`: the column has no zone) |
 * | `org.apache.kafka.connect.data.Timestamp` | ms since epoch (an instant) | `2023-03-23T14:30:05.123Z` |
 *
 * `ZonedTimestamp`, `ZonedTime` and `Interval` are already strings; `Year` and `MicroDuration` stay numbers.
 * A time of day outside 00:00–24:00 (MySQL `TIME` allows ±838 hours) stays a number.
 */

const MS_PER_DAY = 86_400_000n;

/** Units per millisecond and the rendered fraction digits, per logical type. */
interface TemporalKind {
  readonly kind: 'date' | 'time' | 'timestamp';
  readonly unitsPerMs: bigint;
  readonly fractionDigits: number;
  /** Timestamps only: an instant (rendered with `Z`) rather than a zone-less wall-clock time. */
  readonly instant?: boolean;
}

const TEMPORAL_TYPES: ReadonlyMap<string, TemporalKind> = new Map([
  ['io.debezium.time.Date', { kind: 'date', unitsPerMs: 1n, fractionDigits: 0 }],
  ['org.apache.kafka.connect.data.Date', { kind: 'date', unitsPerMs: 1n, fractionDigits: 0 }],
  ['io.debezium.time.Time', { kind: 'time', unitsPerMs: 1n, fractionDigits: 3 }],
  ['org.apache.kafka.connect.data.Time', { kind: 'time', unitsPerMs: 1n, fractionDigits: 3 }],
  ['io.debezium.time.MicroTime', { kind: 'time', unitsPerMs: 1000n, fractionDigits: 6 }],
  ['io.debezium.time.NanoTime', { kind: 'time', unitsPerMs: 1_000_000n, fractionDigits: 9 }],
  ['io.debezium.time.Timestamp', { kind: 'timestamp', unitsPerMs: 1n, fractionDigits: 3 }],
  ['io.debezium.time.MicroTimestamp', { kind: 'timestamp', unitsPerMs: 1000n, fractionDigits: 6 }],
  ['io.debezium.time.NanoTimestamp', { kind: 'timestamp', unitsPerMs: 1_000_000n, fractionDigits: 9 }],
  [
    'org.apache.kafka.connect.data.Timestamp',
    { kind: 'timestamp', unitsPerMs: 1n, fractionDigits: 3, instant: true },
  ],
]);

/**
 * The integer a wire value stands for. A number beyond 2^53 that survived the parser as a number (a
 * nanosecond timestamp such as 1700000000000000000) is read from its shortest decimal text, which is the
 * source's text; an exact-decimal string is read as it is. More than 22 digits is no time (±8.64e21 ns is
 * the range of a JavaScript Date), so it is left alone rather than parsed.
 */
function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e21)
    return BigInt(String(value));
  if (typeof value === 'string' && /^-?\d{1,22}$/.test(value)) return BigInt(value);
  return undefined;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** `YYYY-MM-DDTHH:MM:SS` plus `fractionDigits` digits, for `units` since the epoch. */
function isoWallClock(units: bigint, unitsPerMs: bigint, fractionDigits: number): string | undefined {
  const ms = floorDiv(units, unitsPerMs);
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString(); // 2023-03-23T14:30:05.123Z (or ±YYYYYY-… beyond year 9999)
  const seconds = iso.slice(0, iso.indexOf('.'));
  const subMs = units - ms * unitsPerMs;
  const extraDigits = fractionDigits - 3;
  const fraction =
    iso.slice(iso.indexOf('.') + 1, -1) +
    (extraDigits > 0 ? subMs.toString().padStart(extraDigits, '0') : '');
  return fractionDigits === 0 ? seconds : `${seconds}.${fraction}`;
}

/**
 * Renders a Debezium / Kafka Connect temporal value of logical type `name`; returns the value unchanged when
 * the type is not temporal or the value is not an integer.
 *
 * @example
 * ```ts
 * renderTemporal('io.debezium.time.Date', 19439); // '2023-03-23'
 * renderTemporal('io.debezium.time.MicroTimestamp', 1679581805123456); // '2023-03-23T14:30:05.123456'
 * ```
 */
function renderTemporal(name: string, value: unknown): unknown {
  const type = TEMPORAL_TYPES.get(name);
  const units = toBigInt(value);
  if (type === undefined || units === undefined) return value;
  switch (type.kind) {
    case 'date':
      return isoWallClock(units * MS_PER_DAY, 1n, 0)?.slice(0, -9) ?? value;
    case 'time': {
      if (units < 0n || units >= MS_PER_DAY * type.unitsPerMs) return value;
      return isoWallClock(units, type.unitsPerMs, type.fractionDigits)?.slice(11) ?? value;
    }
    case 'timestamp': {
      const text = isoWallClock(units, type.unitsPerMs, type.fractionDigits);
      if (text === undefined) return value;
      return type.instant === true ? `${text}Z` : text;
    }
  }
}

/** True for a logical type name this module renders. */
function isTemporalType(name: string): boolean {
  return TEMPORAL_TYPES.has(name);
}

export { isTemporalType, renderTemporal };
