export { OptionsError } from '../errors.js';
export {
  AppConfigAgentSource,
  type AppConfigAgentSourceOptions,
  DEFAULT_AGENT_URL,
} from './appconfig-agent-source.js';
export { AppConfigPublisher, type AppConfigPublisherOptions } from './appconfig-publisher.js';
export { AppConfigSource, type AppConfigSourceOptions } from './appconfig-source.js';
export {
  BaseConfigSource,
  type BaseConfigSourceOptions,
  type ConfigMetricsSink,
  type ConfigSourceLogger,
  type FetchedText,
} from './base-source.js';
export {
  type ConfigConvergence,
  configConvergence,
  type InstanceConfigSighting,
  type InstanceConfigState,
} from './convergence.js';
export { isTableDeferred } from './deferral.js';
export {
  ConfigError,
  ConfigPublishError,
  ConfigSourceError,
  ConfigValidationError,
} from './errors.js';
export {
  APPCONFIG_JSON_SCHEMA_MAX_CHARS,
  type ConfigJsonSchemaOptions,
  configJsonSchema,
} from './json-schema.js';
export type { ConfigPublisher, PublishedConfig, PublishOptions } from './publisher.js';
export { parseReportedConfigVersion, reportedConfigVersion } from './reported-version.js';
export {
  ASSIGNMENT_STRATEGIES,
  type AssignmentStrategy,
  CONFLICT_STRATEGIES,
  type Config,
  type ConfigInput,
  ConfigSchema,
  type ConflictStrategy,
  CROSS_FIELD_RULES,
  defaultConfig,
  PRIORITIES,
  parseConfig,
  TABLE_FORMATS,
  type TablePriority,
  type TableSettings,
} from './schema.js';
export {
  configSettings,
  replaceSettingsTable,
  SETTINGS_TABLE_END,
  SETTINGS_TABLE_START,
  type SettingRow,
  settingsMarkdown,
} from './settings-table.js';
export type {
  ConfigListener,
  ConfigRejection,
  ConfigSnapshot,
  ConfigSource,
  RefreshOptions,
} from './source.js';
export { stampConfig, versionNumber } from './stamp.js';
export { StaticConfigSource } from './static-source.js';
export {
  type ConfigViolation,
  formatPath,
  formatViolations,
  parseConfigDocument,
  parseConfigText,
  type ValidationResult,
  validateConfig,
} from './violations.js';
