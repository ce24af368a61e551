export { type Config, type ConfigInput, ConfigSchema, defaultConfig, parseConfig } from './schema.js';
