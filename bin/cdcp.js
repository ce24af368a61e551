#!/usr/bin/env node
// `npx cdcp ...` runs the TypeScript CLI directly (no build step): register tsx, then load bin/cdcp.ts.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./cdcp.ts');
