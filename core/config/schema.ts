/**
 * The one configuration schema (DESIGN.md section 10). Everything tunable lives here with its default; the
 * JSON Schema generated from it validates AppConfig deployments, and locally the same schema validates the
 * watched file.
 */
import { z } from 'zod';

const TableSettingsSchema = z
  .object({
    /** Key columns of the table, used when the record carries no key. */
    keyColumns: z.array(z.string().min(1)).min(1).optional(),
    /** Read this table's records as this format instead of detecting it per record. */
    format: z.enum(['debezium', 'debezium-unwrapped', 'dms', 'dynamodb']).optional(),
  })
  .strict();

const ProcessingSchema = z
  .object({
    /** Deliveries of a failing change before it is parked and its aggregate quarantined. */
    maxAttempts: z.number().int().min(1).max(1000).default(3),
    /** Aggregates of one batch applied concurrently. */
    aggregateConcurrency: z.number().int().min(1).max(512).default(32),
    /** How long a delete's tombstone is kept; must exceed stream retention plus the longest redelivery. */
    tombstoneTtlSeconds: z
      .number()
      .int()
      .min(60)
      .default(30 * 24 * 3600),
    /** Records above this size are parked as TOO_LARGE. */
    maxRecordBytes: z.number().int().min(1024).max(10_485_760).default(1_048_576),
    /**
     * Honour the fault-injection column `__cdcp_fail` (a change carrying it fails in the projection every
     * time). For tests and `npm start -- --inject-poison`; keep it off in production.
     */
    faultInjection: z.boolean().default(false),
  })
  .strict();

const ConfigSchema = z
  .object({
    /** Free-form version label; instances report the version they run. */
    version: z.string().min(1).default('0'),
    processing: ProcessingSchema.prefault({}),
    /** Per-table settings, keyed by `<schema-or-db>.<table>`. */
    tables: z.record(z.string(), TableSettingsSchema).default({}),
  })
  .strict();

type Config = z.infer<typeof ConfigSchema>;
type ConfigInput = z.input<typeof ConfigSchema>;

/** The complete default configuration. */
function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

/**
 * Parses and validates a configuration; throws a ZodError listing every violation.
 *
 * @example
 * ```ts
 * const config = parseConfig({ processing: { maxAttempts: 5 } });
 * ```
 */
function parseConfig(input: unknown): Config {
  return ConfigSchema.parse(input);
}

export type { Config, ConfigInput };
export { ConfigSchema, defaultConfig, parseConfig };
