export type { CfnResource, CfnTemplate } from './cfn-template.js';
export { TemplateError, TemplateProvisioningError } from './errors.js';
export {
  type ProvisionedTable,
  type ProvisionFromTemplateOptions,
  provisionFromTemplate,
  type TemplateProvisioning,
} from './provision-from-template.js';
export {
  type MappingOptions,
  rateIntervalMs,
  readTemplate,
  type ScheduleDeclaration,
  type StreamDeclaration,
  type TableDeclaration,
  type TableRole,
  type TemplateModel,
} from './read-template.js';
export { appSourceFiles, templateSourceHash } from './source-hash.js';
export { type LoadedTemplate, type LoadTemplateOptions, loadTemplate } from './template-cache.js';
