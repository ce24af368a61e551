export { createApp, PROPS_CONTEXT_KEY, STACK_ID } from './app.js';
export { CdcProcessor } from './cdc-processor.js';
export { CdcProcessorStack, type CdcProcessorStackProps } from './cdc-processor-stack.js';
export { appConfigValidatorSchema } from './config-schema.js';
export { CdcProcessorPropsError } from './errors.js';
export { type CdcProcessorProps, DEFAULTS, type StartingPosition } from './props.js';
