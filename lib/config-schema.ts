import { APPCONFIG_JSON_SCHEMA_MAX_CHARS, configJsonSchema } from '../core/config/json-schema.js';

/**
 * The AppConfig validator of the profile: the draft-04 JSON Schema generated from the one zod config schema
 * (`core/config/json-schema.ts`), so AppConfig refuses at deployment what the runtime would refuse at parse
 * time. Descriptions help whoever edits the profile in the console; they are dropped only if the schema would
 * otherwise exceed AppConfig's validator size limit.
 *
 * @example
 * ```ts
 * JsonSchemaValidator.fromInline(appConfigValidatorSchema());
 * ```
 */
function appConfigValidatorSchema(): string {
  const described = JSON.stringify(configJsonSchema());
  if (described.length <= APPCONFIG_JSON_SCHEMA_MAX_CHARS) return described;
  const bare = JSON.stringify(configJsonSchema({ descriptions: false }));
  if (bare.length <= APPCONFIG_JSON_SCHEMA_MAX_CHARS) return bare;
  throw new Error(
    `the config JSON Schema has ${bare.length} characters without descriptions, more than AppConfig's ` +
      `validator limit of ${APPCONFIG_JSON_SCHEMA_MAX_CHARS}; split the profile or simplify core/config/schema.ts`,
  );
}

export { appConfigValidatorSchema };
