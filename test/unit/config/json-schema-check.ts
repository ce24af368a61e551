/**
 * A draft-04 JSON Schema checker covering the keywords our config schema uses (type, enum, minimum, maximum,
 * minLength, pattern, minItems, items, properties, additionalProperties), to compare what AppConfig's
 * validator would refuse with what the zod schema refuses. Unknown keywords fail loudly, so the schema
 * cannot start relying on one this checker ignores.
 */

type JsonSchema = { readonly [keyword: string]: unknown };

const KNOWN = new Set([
  '$schema',
  'type',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  'format',
  'minItems',
  'items',
  'properties',
  'additionalProperties',
  'default',
  'description',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function jsonSchemaErrors(schema: JsonSchema, value: unknown, path = '$'): string[] {
  for (const keyword of Object.keys(schema))
    if (!KNOWN.has(keyword)) throw new Error(`the checker does not know the keyword ${keyword} (at ${path})`);
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) return [`${path}: type ${actual}, expected ${String(schema.type)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: not in enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: above maximum`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      errors.push(`${path}: too short`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      errors.push(`${path}: pattern`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      errors.push(`${path}: too few items`);
    if (schema.items !== undefined)
      value.forEach((item, i) => {
        errors.push(...jsonSchemaErrors(schema.items as JsonSchema, item, `${path}[${i}]`));
      });
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const [key, child] of Object.entries(object)) {
      if (Object.hasOwn(properties, key))
        errors.push(...jsonSchemaErrors(properties[key]!, child, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: not allowed`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...jsonSchemaErrors(schema.additionalProperties as JsonSchema, child, `${path}.${key}`));
    }
  }
  return errors;
}

export type { JsonSchema };
export { jsonSchemaErrors };
