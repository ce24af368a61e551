import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import { messageOf } from '../errors.js';
import type { RowImage } from '../events/change.js';
import { fitsDouble } from '../events/decimal.js';
import { markJsonNumber, wasJsonNumber } from '../events/exact-json.js';
import { setOwn } from '../events/json-value.js';
import { UnstorableError } from './errors.js';
import { MAX_ATTRIBUTE_DEPTH, MAX_NAME_BYTES, numberProblem, utf8Bytes } from './item-size.js';

/** A step into a value: a map key, or a list index. */
type PathSegment = string | number;

/**
 * A projected state as DynamoDB stores it: the `state` map, and the paths of the numbers DynamoDB cannot hold
 * as numbers (more than 38 digits, beyond its range, or `-0`), which the map holds as their exact text.
 */
interface StoredState {
  readonly attribute: AttributeValue;
  /** A list of paths (each a list of map keys and list indexes); undefined when there is none. */
  readonly exactNumbers: AttributeValue | undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `state.items[3]["a.b"]`, with long names cut short. */
function pathText(path: readonly PathSegment[]): string {
  let text = 'state';
  for (const segment of path)
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment) && segment.length <= 40) text += `.${segment}`;
    else text += `[${JSON.stringify(segment.length > 40 ? `${segment.slice(0, 40)}…` : segment)}]`;
  return text;
}

function unstorable(path: readonly PathSegment[], problem: string, limit: string, cause?: unknown): never {
  const where = pathText(path);
  throw new UnstorableError(`${where} ${problem}`, { path: where, limit, cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Builds the attribute of one state, collecting the paths of numbers kept as text. */
class ToAttribute {
  readonly exactPaths: PathSegment[][] = [];
  readonly #path: PathSegment[] = [];

  /** Undefined for `undefined` (left out of maps and lists, as `removeUndefinedValues` does). */
  public value(value: unknown, holder: object, key: string, depth: number): AttributeValue | undefined {
    if (value === undefined) return undefined;
    if (value === null) return { NULL: true };
    if (typeof value === 'string') return wasJsonNumber(holder, key) ? this.#number(value) : { S: value };
    if (typeof value === 'boolean') return { BOOL: value };
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        unstorable(this.#path, `is ${value}; DynamoDB stores only finite numbers`, 'finite numbers');
      return this.#number(Object.is(value, -0) ? '-0' : String(value));
    }
    if (typeof value === 'bigint') return this.#number(value.toString());
    if (Array.isArray(value)) return this.#list(value, depth + 1);
    if (isPlainObject(value)) return this.#map(value, depth + 1);
    return this.#other(value);
  }

  #number(text: string): AttributeValue {
    if (text !== '-0' && numberProblem(text) === undefined) return { N: text };
    this.exactPaths.push([...this.#path]);
    return { S: text };
  }

  #checkDepth(depth: number): void {
    if (depth > MAX_ATTRIBUTE_DEPTH)
      unstorable(
        this.#path,
        `nests lists and maps ${depth} levels deep in the item; DynamoDB allows 32 levels, the item included`,
        '32 levels of nesting',
      );
  }

  #list(list: readonly unknown[], depth: number): AttributeValue {
    this.#checkDepth(depth);
    const items: AttributeValue[] = [];
    for (let i = 0; i < list.length; i++) {
      this.#path.push(i);
      const attribute = this.value(list[i], list, String(i), depth);
      this.#path.pop();
      if (attribute !== undefined) items.push(attribute);
    }
    return { L: items };
  }

  #map(map: Record<string, unknown>, depth: number): AttributeValue {
    this.#checkDepth(depth);
    const entries: Record<string, AttributeValue> = {};
    for (const name of Object.keys(map)) {
      this.#path.push(name);
      if (name === '')
        unstorable(
          this.#path,
          'has an empty name; DynamoDB refuses empty attribute names',
          'non-empty names',
        );
      const bytes = utf8Bytes(name);
      if (bytes > MAX_NAME_BYTES)
        unstorable(
          this.#path,
          `has a name of ${bytes} bytes, more than the ${MAX_NAME_BYTES} an attribute name may have`,
          `${MAX_NAME_BYTES}-byte names`,
        );
      const attribute = this.value(map[name], map, name, depth);
      this.#path.pop();
      if (attribute !== undefined) setOwn(entries, name, attribute);
    }
    return { M: entries };
  }

  /** Sets and binary, as the SDK stores them; anything the SDK refuses (or DynamoDB would) is unstorable. */
  #other(value: unknown): AttributeValue {
    if (value instanceof Set) {
      if (value.size === 0)
        unstorable(this.#path, 'is an empty set; DynamoDB refuses empty sets', 'non-empty sets');
      for (const element of value)
        if (typeof element === 'number' || typeof element === 'bigint') {
          const problem = numberProblem(String(element));
          if (problem !== undefined)
            unstorable(
              this.#path,
              `holds the number ${String(element)} in a set, but ${problem}`,
              '38-digit numbers',
            );
        }
    }
    try {
      return convertToAttr(value, { removeUndefinedValues: true });
    } catch (cause) {
      return unstorable(
        this.#path,
        `holds a ${Object.prototype.toString.call(value).slice(8, -1)} DynamoDB cannot store (${messageOf(cause)})`,
        'JSON values, binary and sets',
        cause,
      );
    }
  }
}

/**
 * A projected state as a DynamoDB map, exactly (docs/architecture.md contract 6). `marshall` falls short on
 * valid rows: it drops a `__proto__` column and refuses integers above 2^53. Maps are built here from own
 * properties only; numbers go in as DynamoDB numbers when DynamoDB holds them (38 digits, magnitudes 1E-130
 * to 1E+126), exact-number strings of the decoders (`wasJsonNumber`) included, and otherwise as their exact
 * text, listed in `exactNumbers`. Throws {@link UnstorableError} for what DynamoDB refuses whatever the form:
 * empty or too long names, more than 32 levels, non-finite numbers, values it has no type for.
 *
 * @example
 * ```ts
 * const { attribute, exactNumbers } = stateToAttribute(parseJsonExact('{"id": 9223372036854775807, "x": 1e400}'));
 * // attribute.M.id is { N: '9223372036854775807' }; attribute.M.x is { S: '1e400' }, listed in exactNumbers
 * ```
 */
function stateToAttribute(state: RowImage): StoredState {
  const converter = new ToAttribute();
  const attribute = converter.value(state, {}, '', 0)!;
  const paths = converter.exactPaths;
  return {
    attribute,
    exactNumbers:
      paths.length === 0
        ? undefined
        : {
            L: paths.map((path) => ({
              L: path.map((s) => (typeof s === 'number' ? { N: String(s) } : { S: s })),
            })),
          },
  };
}

/** Paths of exact-number texts as a tree: key → subtree; `true` where the value itself is one. */
interface PathTree {
  readonly children: Map<string, PathTree>;
  leaf: boolean;
}

function pathTreeOf(exactNumbers: AttributeValue | undefined): PathTree | undefined {
  if (exactNumbers?.L === undefined) return undefined;
  const root: PathTree = { children: new Map(), leaf: false };
  for (const path of exactNumbers.L) {
    let node = root;
    for (const segment of path.L ?? []) {
      const key = segment.N ?? segment.S ?? '';
      let next = node.children.get(key);
      if (next === undefined) {
        next = { children: new Map(), leaf: false };
        node.children.set(key, next);
      }
      node = next;
    }
    node.leaf = true;
  }
  return root;
}

/** A number's text as the decoders give it: a number when a double holds it exactly, else its marked text. */
function numberOf(text: string, holder: object, key: string): number | string {
  if (fitsDouble(text)) return Number(text);
  markJsonNumber(holder, key);
  return text;
}

function fromAttribute(
  attribute: AttributeValue,
  tree: PathTree | undefined,
  holder: object,
  key: string,
): unknown {
  if (attribute.N !== undefined) return numberOf(attribute.N, holder, key);
  if (attribute.S !== undefined) return tree?.leaf ? numberOf(attribute.S, holder, key) : attribute.S;
  if (attribute.L !== undefined) {
    const list: unknown[] = [];
    attribute.L.forEach((child, i) => {
      list.push(fromAttribute(child, tree?.children.get(String(i)), list, String(i)));
    });
    return list;
  }
  if (attribute.M !== undefined) {
    const map: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(attribute.M))
      setOwn(map, name, fromAttribute(child, tree?.children.get(name), map, name));
    return map;
  }
  if (attribute.NS !== undefined) return new Set(attribute.NS.map(Number));
  return convertToNative(attribute);
}

/**
 * A stored state back as the row it was written from: own properties only (`__proto__` is a column), numbers
 * as numbers when a double holds them exactly and otherwise as their exact text, marked as numbers
 * (`wasJsonNumber`), as the decoders give them.
 *
 * @example
 * ```ts
 * const row = stateFromAttribute(stored.attribute, stored.exactNumbers);
 * ```
 */
function stateFromAttribute(attribute: AttributeValue, exactNumbers?: AttributeValue): RowImage {
  return fromAttribute(attribute, pathTreeOf(exactNumbers), {}, '') as RowImage;
}

export type { StoredState };
export { stateFromAttribute, stateToAttribute };
