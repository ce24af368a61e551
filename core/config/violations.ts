import type { z } from 'zod';
import { messageOf } from '../errors.js';
import { describeExpected, isNode, type JsonSchemaNode } from './describe.js';
import { ConfigValidationError } from './errors.js';
import { configJsonSchema } from './json-schema.js';
import { type Config, ConfigSchema, crossFieldIssues } from './schema.js';

/** One problem of a configuration document, as a person needs it to fix the document. */
interface ConfigViolation {
  /** Where, for example `processing.maxAttempts` or `tables["public.orders"].priority`; `(document)` for the root. */
  readonly path: string;
  readonly pathSegments: readonly (string | number)[];
  /** The value found there, as JSON (`nothing` when absent). */
  readonly received: string;
  /** What the schema accepts there, for example `an integer from 1 to 1000`. */
  readonly expected: string;
  /** `path: received R, expected E` in one line. */
  readonly message: string;
}

type ValidationResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly violations: readonly ConfigViolation[] };

let cachedSchema: JsonSchemaNode | undefined;
const jsonSchema = (): JsonSchemaNode => {
  cachedSchema ??= configJsonSchema({ descriptions: false });
  return cachedSchema;
};

/**
 * Validates a parsed document against the config schema and, when it fails, lists **every** violation with
 * its path, the value received and what was expected (never just the first).
 *
 * @example
 * ```ts
 * const result = validateConfig({ processing: { maxAttempts: 0 } });
 * if (!result.ok) console.error(result.violations.map((v) => v.message).join('\n'));
 * // processing.maxAttempts: received 0, expected an integer from 1 to 1000
 * ```
 */
function validateConfig(input: unknown): ValidationResult {
  const parsed = ConfigSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  const violations = parsed.error.issues.flatMap((issue) => violationsOf(issue, input));
  // zod skips refinements once another setting failed; check the cross-field rules on the document itself.
  for (const issue of crossFieldIssues(input)) {
    const path = formatPath(issue.path);
    if (!violations.some((v) => v.path === path))
      violations.push(violation(issue.path, issue.input, issue.message));
  }
  return { ok: false, violations };
}

/**
 * Parses JSON text and validates it. Throws {@link ConfigValidationError}: for text that is not JSON (no
 * violations; the parser's message says where), or for a document that breaks the schema (every violation).
 */
function parseConfigText(text: string, origin = 'the configuration'): Config {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    throw new ConfigValidationError(
      `${origin} is not valid JSON (${messageOf(cause)}); received ${describeText(text)}. ` +
        'Fix the JSON (start from `cdcp config defaults`) and validate it with `cdcp config validate FILE`.',
      [],
      { cause },
    );
  }
  return parseConfigDocument(document, origin);
}

/** Validates a parsed document; throws {@link ConfigValidationError} listing every violation. */
function parseConfigDocument(document: unknown, origin = 'the configuration'): Config {
  const result = validateConfig(document);
  if (result.ok) return result.config;
  throw new ConfigValidationError(formatViolations(result.violations, origin), result.violations);
}

/** `origin has N problems:` and one line per violation, ending with what to do. */
function formatViolations(violations: readonly ConfigViolation[], origin = 'the configuration'): string {
  const lines = violations.map((v) => `  - ${v.message}`);
  const count = violations.length === 1 ? '1 problem' : `${violations.length} problems`;
  return (
    `${origin} has ${count}:\n${lines.join('\n')}\n` +
    'Fix each setting (docs/configuration.md lists them with their defaults; `cdcp config defaults` prints a ' +
    'valid document).'
  );
}

function violationsOf(issue: z.core.$ZodIssue, input: unknown): ConfigViolation[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const parent = schemaAt(path);
    const known = Object.keys((parent?.properties as JsonSchemaNode | undefined) ?? {});
    return issue.keys.map((key) => {
      const at = [...path, key];
      const suggestion = closest(key, known);
      return violation(
        at,
        valueAt(input, at),
        `no setting named "${key}" here${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; ` +
          `the settings of ${formatPath(path)} are ${known.join(', ')}`,
      );
    });
  }
  const node = schemaAt(path);
  const expected =
    issue.code === 'custom' || node === undefined ? issue.message : describeExpected(node, issue.message);
  return [violation(path, valueAt(input, path), expected)];
}

function violation(path: readonly (string | number)[], value: unknown, expected: string): ConfigViolation {
  const shown = formatPath(path);
  const received = describeValue(value);
  return {
    path: shown,
    pathSegments: path,
    received,
    expected,
    message: `${shown}: received ${received}, expected ${expected}`,
  };
}

/** The JSON Schema node describing `path` (properties, record values, list items). */
function schemaAt(path: readonly (string | number)[]): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = jsonSchema();
  for (const segment of path) {
    if (node === undefined) return undefined;
    const properties = node.properties as Record<string, JsonSchemaNode> | undefined;
    if (typeof segment === 'number') node = node.items as JsonSchemaNode | undefined;
    else if (properties !== undefined && Object.hasOwn(properties, segment)) node = properties[segment];
    else node = isNode(node.additionalProperties) ? node.additionalProperties : undefined;
  }
  return node;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  const shown = json.length > 80 ? `${json.slice(0, 77)}...` : json;
  const type = Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'null'
    ? shown
    : `${shown} (${type})`;
}

function describeText(text: string): string {
  if (text.trim() === '') return 'an empty document';
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine);
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(document)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The known name within edit distance 2 of `name`, if exactly one is closest. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

export type { ConfigViolation, ValidationResult };
export { formatPath, formatViolations, parseConfigDocument, parseConfigText, validateConfig };
