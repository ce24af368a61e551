/**
 * Small helpers for inspecting parsed JSON values. Input names things (columns, map attributes, ops), so a
 * name is only ever read as an own property and written as an own data property: `__proto__`,
 * `constructor` and `toString` are names like any other and never reach a prototype.
 */

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
 * The value of `object`'s own property `name`; `undefined` when it has none (never an inherited one).
 *
 * @example
 * ```ts
 * getOwn({}, 'constructor'); // undefined (not Object)
 * ```
 */
function getOwn(object: JsonObject, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/**
 * Sets an own, enumerable data property, as `JSON.parse` does: `setOwn(row, '__proto__', v)` adds a column
 * named `__proto__` instead of replacing the row's prototype.
 *
 * @example
 * ```ts
 * const row = {};
 * setOwn(row, '__proto__', { id: 77 });
 * Object.keys(row); // ['__proto__'], and row.id is still undefined
 * ```
 */
function setOwn(object: JsonObject, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
  else object[name] = value;
}

/**
 * True when `value` nests more than `limit` levels of objects and arrays (a scalar is 0 levels, `{}` and
 * `[1]` are 1). Iterative, so no nesting overflows the stack, and it stops at the first branch too deep.
 *
 * @example
 * ```ts
 * nestsDeeperThan({ a: [{ b: 1 }] }, 2); // true: 3 levels
 * ```
 */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: { readonly value: object; readonly depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: next, depth } = stack.pop()!;
    if (depth > limit) return true;
    const children = Array.isArray(next) ? next : Object.values(next);
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/**
 * Input quoted in an error message, cut to `maxChars`: messages say what was received without echoing a
 * 200 KB value back into logs and parked items.
 *
 * @example
 * ```ts
 * excerpt('x'.repeat(1000), 10); // '"xxxxxxxxx… (1002 chars)'
 * ```
 */
function excerpt(value: unknown, maxChars = 80): string {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} chars)`;
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
    const shown = keys
      .slice(0, 8)
      .map((k) => (k.length > 40 ? `${k.slice(0, 40)}…` : k))
      .join(', ');
    return `an object with keys ${shown}${keys.length > 8 ? ', …' : ''}`;
  }
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${excerpt(value, 60)}`;
}

export type { JsonObject };
export { describeValue, excerpt, getOwn, isObject, nestsDeeperThan, setOwn };
