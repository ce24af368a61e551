/**
 * A small JSON Schema draft-04 validator for the tests: the keywords `z.toJSONSchema(..., { target:
 * 'draft-04' })` emits, and nothing more. An unknown keyword throws rather than being ignored, so a schema
 * that grows past this validator fails the test instead of passing it untested.
 */

type Schema = Readonly<Record<string, unknown>>;

const ANNOTATIONS = new Set(['$schema', 'default', 'description', 'title', 'id', '$id', 'examples']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'items',
  'minItems',
  'maxItems',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
]);

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

function validateAt(schema: Schema, value: unknown, path: string, errors: string[]): void {
  for (const keyword of Object.keys(schema))
    if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword))
      throw new Error(`the test validator does not support the keyword ${keyword} (at ${path || '/'})`);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value))) {
      errors.push(`${path || '/'}: expected ${types.join(' or ')}, got ${JSON.stringify(value)}`);
      return;
    }
  }
  if (
    schema.enum !== undefined &&
    !(schema.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))
  )
    errors.push(`${path || '/'}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);

  if (typeof value === 'number') {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    if (min !== undefined && (schema.exclusiveMinimum === true ? value <= min : value < min))
      errors.push(`${path || '/'}: ${value} is below the minimum ${min}`);
    if (max !== undefined && (schema.exclusiveMaximum === true ? value >= max : value > max))
      errors.push(`${path || '/'}: ${value} is above the maximum ${max}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < (schema.minLength as number))
      errors.push(`${path || '/'}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > (schema.maxLength as number))
      errors.push(`${path || '/'}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern as string, 'u').test(value))
      errors.push(`${path || '/'}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < (schema.minItems as number))
      errors.push(`${path || '/'}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > (schema.maxItems as number))
      errors.push(`${path || '/'}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) {
      if (Array.isArray(schema.items)) throw new Error('the test validator does not support tuple items');
      value.forEach((item, i) => {
        validateAt(schema.items as Schema, item, `${path}/${i}`, errors);
      });
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? [])
      if (!(name in object)) errors.push(`${path || '/'}: missing required property ${name}`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    const patterns = Object.entries((schema.patternProperties as Record<string, Schema> | undefined) ?? {});
    for (const [name, child] of Object.entries(object)) {
      const childPath = `${path}/${name}`;
      let matched = false;
      if (properties[name] !== undefined) {
        matched = true;
        validateAt(properties[name], child, childPath, errors);
      }
      for (const [pattern, patternSchema] of patterns)
        if (new RegExp(pattern, 'u').test(name)) {
          matched = true;
          validateAt(patternSchema, child, childPath, errors);
        }
      if (matched) continue;
      if (schema.additionalProperties === false) errors.push(`${childPath}: property not allowed`);
      else if (typeof schema.additionalProperties === 'object')
        validateAt(schema.additionalProperties as Schema, child, childPath, errors);
    }
  }
  const branchErrors = (branch: Schema) => {
    const e: string[] = [];
    validateAt(branch, value, path, e);
    return e;
  };
  if (schema.allOf !== undefined)
    for (const branch of schema.allOf as Schema[]) errors.push(...branchErrors(branch));
  if (schema.anyOf !== undefined && !(schema.anyOf as Schema[]).some((b) => branchErrors(b).length === 0))
    errors.push(`${path || '/'}: matches none of anyOf`);
  if (
    schema.oneOf !== undefined &&
    (schema.oneOf as Schema[]).filter((b) => branchErrors(b).length === 0).length !== 1
  )
    errors.push(`${path || '/'}: does not match exactly one of oneOf`);
  if (schema.not !== undefined && branchErrors(schema.not as Schema).length === 0)
    errors.push(`${path || '/'}: matches a schema it must not`);
}

/** The violations of `value` against a draft-04 `schema`, each as `<json pointer>: <problem>`; [] if valid. */
function validateDraft4(schema: Schema, value: unknown): string[] {
  if (schema.$schema !== undefined && schema.$schema !== 'http://json-schema.org/draft-04/schema#')
    throw new Error(`not a draft-04 schema: ${String(schema.$schema)}`);
  const errors: string[] = [];
  validateAt(schema, value, '', errors);
  return errors;
}

export { validateDraft4 };
