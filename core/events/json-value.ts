/** Small helpers for inspecting parsed JSON values. */

type JsonObject = Record<string, unknown>;

/**
 * True for a JSON object (not an array, not null).
 *
 * @example
 * ```ts
 * isObject({ a: 1 }); // true
 * isObject([1]); // false
 * ```
 */
function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A short description of a value for error messages: its JSON type and, for an object, its first keys.
 *
 * @example
 * ```ts
 * describeValue({ message: 'hi', username: 'x' }); // 'an object with keys message, username'
 * ```
 */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 8).join(', ');
    return `an object with keys ${shown}${keys.length > 8 ? ', …' : ''}`;
  }
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

export type { JsonObject };
export { describeValue, isObject };
