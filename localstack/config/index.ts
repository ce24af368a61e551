export { FileConfigSource, type FileConfigSourceOptions } from './file-config-source.js';
export { type LocalConfig, localConfigPath, startLocalConfig } from './local-config.js';
export {
  type LocalConfigHistoryEntry,
  LocalConfigStore,
  type LocalConfigStoreOptions,
} from './local-config-store.js';
