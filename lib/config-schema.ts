import { z } from 'zod';
import { ConfigSchema } from '../core/config/schema.js';

/** AppConfig's JSON Schema validators accept at most this many characters of schema. */
const APPCONFIG_VALIDATOR_MAX_CHARS = 32_768;

/**
 * The AppConfig validator: the JSON Schema of the one zod config schema (DESIGN.md section 10), so AppConfig
 * refuses at deployment what the runtime would refuse at parse time.
 *
 * - Draft 4, the only draft AppConfig's JSON Schema validator understands.
 * - The *input* side of the schema: a deployed document may leave out anything that has a default, exactly
 *   as `parseConfig` accepts it.
 * - A zod construct JSON Schema cannot express (a refinement, a transform) makes this throw, so synthesis
 *   fails instead of deploying a validator weaker than the runtime.
 *
 * @example
 * ```ts
 * JsonSchemaValidator.fromInline(configJsonSchema());
 * ```
 */
function configJsonSchema(): string {
  const schema = JSON.stringify(z.toJSONSchema(ConfigSchema, { target: 'draft-04', io: 'input' }));
  if (schema.length > APPCONFIG_VALIDATOR_MAX_CHARS)
    throw new Error(
      `the config JSON Schema has ${schema.length} characters, more than AppConfig's validator limit of ` +
        `${APPCONFIG_VALIDATOR_MAX_CHARS}; shorten descriptions in core/config/schema.ts or split the profile`,
    );
  return schema;
}

export { APPCONFIG_VALIDATOR_MAX_CHARS, configJsonSchema };
