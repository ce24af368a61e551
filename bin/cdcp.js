#!/usr/bin/env node
// `npx cdcp ...`. In this repository the TypeScript sources run directly through tsx (no build step); an installed
// package has no sources and runs the JavaScript compiled into dist/ when it was packed.
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (existsSync(new URL('./cdcp.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cdcp.ts');
} else {
  await import('../dist/bin/cdcp.js');
}
