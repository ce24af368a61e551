import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** AppConfig's JSON Schema validators accept at most this many characters of schema. */
const APPCONFIG_JSON_SCHEMA_MAX_CHARS = 32_768;

interface ConfigJsonSchemaOptions {
  /** Keep each setting's description (console users see them; they cost validator size). @default true */
  readonly descriptions?: boolean;
}

/**
 * The JSON Schema of the config: the AppConfig validator of the profile (docs/architecture.md §10), so AppConfig
 * refuses at deployment what instances would refuse at parse time.
 *
 * - Draft 4, the draft AppConfig's JSON Schema validator understands.
 * - The *input* side: a deployed document may leave out anything that has a default, exactly as
 *   `parseConfig` accepts it.
 * - Every constraint of the zod schema is a one-field constraint and appears here, except the rules listed in
 *   `CROSS_FIELD_RULES`, which the publishers and every instance check.
 *
 * @example
 * ```ts
 * JsonSchemaValidator.fromInline(JSON.stringify(configJsonSchema()));
 * ```
 */
function configJsonSchema(options: ConfigJsonSchemaOptions = {}): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { target: 'draft-04', io: 'input' }) as Record<string, unknown>;
  return options.descriptions === false ? withoutDescriptions(schema) : schema;
}

function withoutDescriptions(node: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'description') continue;
    if (key === 'properties' && isObject(value))
      // Setting names are not keywords: a setting called "description" must survive.
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [
          name,
          isObject(schema) ? withoutDescriptions(schema) : schema,
        ]),
      );
    else if (key === 'items' || key === 'additionalProperties')
      out[key] = isObject(value) ? withoutDescriptions(value) : value;
    else out[key] = value;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type { ConfigJsonSchemaOptions };
export { APPCONFIG_JSON_SCHEMA_MAX_CHARS, configJsonSchema };
