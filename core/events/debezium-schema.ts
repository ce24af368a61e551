/**
 * Applies the Kafka Connect schema of a JSON-with-schema Debezium event to its row images: decimals become
 * exact decimal strings and temporal types ISO strings (see debezium-time.ts). Without a schema (the bare
 * envelope) values are passed on as the connector wrote them, since a base64 string and a decimal cannot be
 * told apart without it.
 */
import type { RowImage } from './change.js';
import { isTemporalType, renderTemporal } from './debezium-time.js';
import { DecimalRangeError, decimalFromBase64, plainDecimal, withScale } from './decimal.js';
import { DecodeError } from './errors.js';
import { keepJsonNumberMark, wasJsonNumber } from './exact-json.js';
import { excerpt, getOwn, isObject, type JsonObject, setOwn } from './json-value.js';
import { REASON } from './reason-codes.js';

const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
const VARIABLE_SCALE_DECIMAL = 'io.debezium.data.VariableScaleDecimal';

/** One Kafka Connect field schema as JsonConverter writes it. */
interface FieldSchema {
  readonly type?: string;
  readonly name?: string;
  readonly field?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly fields?: readonly FieldSchema[];
  readonly items?: FieldSchema;
}

/** The field schemas of the envelope's `before` or `after` struct, keyed by column name. */
function rowSchemaOf(
  envelopeSchema: unknown,
  field: 'before' | 'after',
): Map<string, FieldSchema> | undefined {
  if (!isObject(envelopeSchema) || !Array.isArray(envelopeSchema.fields)) return undefined;
  const struct = (envelopeSchema.fields as unknown[]).find((f) => isObject(f) && f.field === field);
  if (!isObject(struct) || !Array.isArray(struct.fields)) return undefined;
  return fieldMap(struct.fields as unknown[]);
}

function fieldMap(fields: readonly unknown[]): Map<string, FieldSchema> {
  const map = new Map<string, FieldSchema>();
  for (const f of fields) if (isObject(f) && typeof f.field === 'string') map.set(f.field, f as FieldSchema);
  return map;
}

function decimalError(column: string, value: unknown, what: string): DecodeError {
  return new DecodeError(
    REASON.INVALID_ENVELOPE,
    `column ${column}: ${what}, received ${excerpt(value)}; check the connector's decimal.handling.mode and the converter's decimal.format`,
  );
}

/** Runs a decimal conversion, turning a scale, exponent or size beyond the bounds into `DECIMAL_OUT_OF_RANGE`. */
function bounded(column: string, convert: () => string | undefined): string | undefined {
  try {
    return convert();
  } catch (error) {
    if (!(error instanceof DecimalRangeError)) throw error;
    throw new DecodeError(
      REASON.DECIMAL_OUT_OF_RANGE,
      `column ${column}: ${error.message}; no real column holds such a decimal, so check what produced the record`,
      { cause: error },
    );
  }
}

function scaleOf(schema: FieldSchema, column: string): number {
  const parameters: unknown = schema.parameters;
  const raw = isObject(parameters) ? getOwn(parameters, 'scale') : undefined;
  const scale = Number(raw ?? '0');
  if (!Number.isInteger(scale))
    throw decimalError(column, raw, 'Decimal schema parameter "scale" is not an integer');
  return scale;
}

function convertDecimal(value: unknown, schema: FieldSchema, column: string, holder: object, key: string) {
  const scale = scaleOf(schema, column);
  // JsonConverter decimal.format=NUMERIC writes the value as a JSON number; BASE64 (the default) as bytes.
  if (typeof value === 'number')
    return bounded(column, () => withScale(plainDecimal(String(value)) ?? String(value), scale));
  if (typeof value !== 'string')
    throw decimalError(column, value, 'a Decimal must be base64 bytes or a number');
  if (wasJsonNumber(holder, key))
    return bounded(column, () => withScale(plainDecimal(value) ?? value, scale));
  const decimal = bounded(column, () => decimalFromBase64(value, scale));
  if (decimal === undefined) throw decimalError(column, value, 'a Decimal string must be base64');
  return decimal;
}

function convertVariableScaleDecimal(value: unknown, column: string): unknown {
  if (!isObject(value)) return value;
  const scale = getOwn(value, 'scale');
  const bytes = getOwn(value, 'value');
  if (typeof scale !== 'number' || !Number.isInteger(scale) || typeof bytes !== 'string')
    throw decimalError(column, value, 'a VariableScaleDecimal must be {"scale": integer, "value": base64}');
  const decimal = bounded(column, () => decimalFromBase64(bytes, scale));
  if (decimal === undefined) throw decimalError(column, value, 'VariableScaleDecimal "value" must be base64');
  return decimal;
}

function convertValue(
  value: unknown,
  schema: FieldSchema,
  column: string,
  holder: object,
  key: string,
): unknown {
  if (value === null || value === undefined) return value;
  const name = schema.name;
  if (name === DECIMAL) return convertDecimal(value, schema, column, holder, key);
  if (name === VARIABLE_SCALE_DECIMAL) return convertVariableScaleDecimal(value, column);
  if (name !== undefined && isTemporalType(name)) return renderTemporal(name, value);
  if (schema.type === 'struct' && Array.isArray(schema.fields) && isObject(value))
    return convertStruct(value, fieldMap(schema.fields), column);
  if (schema.type === 'array' && isObject(schema.items) && Array.isArray(value)) {
    const items = schema.items;
    const out: unknown[] = [];
    for (const [i, item] of value.entries()) {
      const converted = convertValue(item, items, `${column}[${i}]`, value, String(i));
      out.push(converted);
      keepMarkIfUnchanged(value, String(i), out, converted, items);
    }
    return out;
  }
  return value;
}

/**
 * A value the schema left as it was keeps its number mark (an int64 beyond 2^53 stays a number); a decimal is
 * rendered as a decimal string whatever the wire form, so it never carries one.
 */
function keepMarkIfUnchanged(
  from: object,
  key: string,
  to: object,
  converted: unknown,
  schema: FieldSchema | undefined,
): void {
  if (schema !== undefined && (schema.name === DECIMAL || schema.name === VARIABLE_SCALE_DECIMAL)) return;
  if (converted === getOwn(from as JsonObject, key)) keepJsonNumberMark(from, key, to, key);
}

function convertStruct(row: JsonObject, fields: ReadonlyMap<string, FieldSchema>, path: string): JsonObject {
  const out: JsonObject = {};
  for (const [column, value] of Object.entries(row)) {
    const schema = fields.get(column);
    const where = path === '' ? column : `${path}.${column}`;
    const converted = schema === undefined ? value : convertValue(value, schema, where, row, column);
    setOwn(out, column, converted);
    keepMarkIfUnchanged(row, column, out, converted, schema);
  }
  return out;
}

/**
 * Converts a row image with the field schemas of its struct; the image is returned unchanged when there is no
 * schema. Throws `INVALID_ENVELOPE` for a decimal that contradicts its schema.
 *
 * @example
 * ```ts
 * const fields = rowSchemaOf(envelope.schema, 'after');
 * applyRowSchema({ price: 'AN3h' }, fields); // { price: '568.01' } when price is Decimal(5,2)
 * ```
 */
function applyRowSchema(row: RowImage, fields: ReadonlyMap<string, FieldSchema> | undefined): RowImage {
  return fields === undefined ? row : convertStruct(row, fields, '');
}

export type { FieldSchema };
export { applyRowSchema, rowSchemaOf };
