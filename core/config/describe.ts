/** Plain-language descriptions of JSON Schema nodes, shared by violation messages and the settings table. */

type JsonSchemaNode = Record<string, unknown>;

/** What a JSON Schema node accepts, for example `an integer from 1 to 1000` or `one of "a", "b"`. */
function describeExpected(node: JsonSchemaNode, fallback = 'a value'): string {
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const range = describeRange(node.minimum, node.maximum);
  switch (node.type) {
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      if (node.format === 'date-time') return 'an ISO 8601 UTC date-time such as "2026-01-31T12:00:00Z"';
      return typeof node.minLength === 'number' && node.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = isNode(node.items) ? describeExpected(node.items, 'a value') : 'a value';
      const min =
        typeof node.minItems === 'number' && node.minItems > 0 ? ` with at least ${node.minItems} item` : '';
      return `a list${min}${node.minItems === 1 || min === '' ? '' : 's'}, each ${items}`;
    }
    case 'object':
      return isNode(node.properties) && Object.keys(node.properties).length > 0
        ? `an object with the settings ${Object.keys(node.properties).join(', ')}`
        : 'an object';
    default:
      return fallback;
  }
}

function describeRange(minimum: unknown, maximum: unknown): string {
  const min = typeof minimum === 'number' ? minimum : undefined;
  const max = typeof maximum === 'number' && maximum < Number.MAX_SAFE_INTEGER ? maximum : undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

function isNode(value: unknown): value is JsonSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type { JsonSchemaNode };
export { describeExpected, isNode };
