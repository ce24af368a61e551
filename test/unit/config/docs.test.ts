import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSettings, settingsMarkdown } from '../../../core/config/index.js';
import { ENV } from '../../../core/constants.js';

const DOC = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  it('has the settings table generated from the schema (run `npx cdcp config docs --write docs/configuration.md`)', () => {
    expect(DOC).toContain(settingsMarkdown());
  });

  it('documents every setting with its default', () => {
    const undocumented = configSettings().filter(
      (row) => !DOC.includes(`| \`${row.path}\` |`) || !DOC.includes(`| \`${row.defaultValue}\` |`),
    );

    expect(undocumented.map((r) => r.path)).toEqual([]);
  });

  it('explains every configuration environment variable', () => {
    const variables = [
      ENV.APPCONFIG_APPLICATION_ID,
      ENV.APPCONFIG_ENVIRONMENT_ID,
      ENV.APPCONFIG_PROFILE_ID,
      ENV.APPCONFIG_DEPLOYMENT_STRATEGY_ID,
      ENV.APPCONFIG_AGENT_URL,
      ENV.APPCONFIG_POLL_INTERVAL_SECONDS,
      ENV.CONFIG_JSON,
      ENV.CONFIG_FILE,
    ];

    expect(variables.filter((v) => !DOC.includes(`\`${v}\``))).toEqual([]);
  });
});
