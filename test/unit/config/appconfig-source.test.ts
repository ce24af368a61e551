/**
 * AppConfigSource over Powertools' AppConfigProvider. AppConfig does not run locally (LocalStack has it in a
 * paid tier), so AppConfigData is mocked with aws-sdk-client-mock: these tests check the calls we make and
 * what we do with the answers, not AppConfig itself.
 */
import {
  AppConfigDataClient,
  BadRequestException,
  GetLatestConfigurationCommand,
  type GetLatestConfigurationCommandOutput,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AppConfigSource,
  type AppConfigSourceOptions,
  type ConfigSnapshot,
  parseConfig,
} from '../../../core/config/index.js';
import { METRICS } from '../../../core/constants.js';
import { OptionsError } from '../../../core/errors.js';

const appConfigData = mockClient(AppConfigDataClient);
/** The SDK types responses as blob adapters; the provider reads them as plain bytes. */
type Bytes = NonNullable<GetLatestConfigurationCommandOutput['Configuration']>;
const bytes = (text: string) => new TextEncoder().encode(text) as unknown as Bytes;
const encode = (document: unknown) => bytes(JSON.stringify(document));

function setup(options: Partial<AppConfigSourceOptions> = {}) {
  const metrics: { name: string; unit: string; value: number }[] = [];
  const warnings: { message: string; extra: Record<string, unknown> }[] = [];
  const changes: { next: ConfigSnapshot; previous: ConfigSnapshot }[] = [];
  const source = new AppConfigSource({
    client: new AppConfigDataClient({ region: 'us-east-1' }),
    applicationId: 'cdcp',
    environmentId: 'prod',
    profileId: 'config',
    // Powertools' cache reads Date.now(); the fake timers move it and this clock together.
    clock: { now: () => Date.now(), wallNow: () => Date.now() },
    metrics: { addMetric: (name, unit, value) => metrics.push({ name, unit, value }) },
    logger: { info: () => {}, warn: (message, extra) => warnings.push({ message, extra }) },
    ...options,
  });
  source.subscribe((next, previous) => changes.push({ next, previous }));
  return { source, metrics, warnings, changes };
}

const counted = (metrics: { name: string }[], name: string) => metrics.filter((m) => m.name === name).length;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-03-01T12:00:00Z'));
  appConfigData.reset();
  appConfigData.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'token-0' });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Class: AppConfigSource', () => {
  describe('Method: constructor', () => {
    it('refuses a poll interval below AppConfigData minimum of 15 s', () => {
      expect(() => setup({ pollIntervalSeconds: 10 })).toThrow(OptionsError);
      expect(() => setup({ pollIntervalSeconds: 10 })).toThrow(
        "pollIntervalSeconds must be an integer from 15 (AppConfigData's minimum poll interval) to 3600; received 10",
      );
    });

    it('refuses an empty profile id', () => {
      expect(() => setup({ profileId: ' ' })).toThrow(/profileId must name the AppConfig resource/);
    });
  });

  describe('Method: refresh', () => {
    it('opens a session with the minimum poll interval and applies the deployed config', async () => {
      appConfigData.on(GetLatestConfigurationCommand).resolves({
        Configuration: encode({
          version: '7',
          publishedAt: '2026-03-01T11:59:59.000Z',
          processing: { maxAttempts: 5 },
        }),
        NextPollConfigurationToken: 'token-1',
        NextPollIntervalInSeconds: 45,
      });
      const { source, metrics, changes } = setup();

      const snapshot = await source.refresh();

      expect(appConfigData.commandCalls(StartConfigurationSessionCommand)[0]!.args[0].input).toEqual({
        ApplicationIdentifier: 'cdcp',
        EnvironmentIdentifier: 'prod',
        ConfigurationProfileIdentifier: 'config',
        RequiredMinimumPollIntervalInSeconds: 45,
      });
      expect(appConfigData.commandCalls(GetLatestConfigurationCommand)[0]!.args[0].input).toEqual({
        ConfigurationToken: 'token-0',
      });
      expect(snapshot.version).toBe('7');
      expect(snapshot.config.processing.maxAttempts).toBe(5);
      expect(snapshot.origin).toBe('appconfig:cdcp/prod/config');
      expect(snapshot.publishedAtWallMs).toBe(Date.parse('2026-03-01T11:59:59.000Z'));
      expect(changes.map((c) => [c.previous.version, c.next.version])).toEqual([['0', '7']]);
      expect(metrics).toContainEqual({
        name: METRICS.configApplyLatency,
        unit: 'Milliseconds',
        value: 1_000,
      });
    });

    it('does not poll again before the interval, then polls with the next token', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .resolvesOnce({ Configuration: encode({ version: '1' }), NextPollConfigurationToken: 'token-1' })
        .resolves({ Configuration: bytes(''), NextPollConfigurationToken: 'token-2' });
      const { source, changes } = setup();
      const first = await source.refresh();

      vi.advanceTimersByTime(44_000);
      await source.refresh();
      await source.refresh();
      expect(appConfigData.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);

      vi.advanceTimersByTime(1_001);
      const unchanged = await source.refresh();

      const calls = appConfigData.commandCalls(GetLatestConfigurationCommand);
      expect(calls).toHaveLength(2);
      expect(calls[1]!.args[0].input).toEqual({ ConfigurationToken: 'token-1' });
      // An empty answer means "no change": Powertools returns the last content, and nothing is re-applied.
      expect(unchanged).toBe(first);
      expect(changes).toHaveLength(1);
    });

    it('applies a new version at the next poll and tells the listeners', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .resolvesOnce({ Configuration: encode({ version: '1' }), NextPollConfigurationToken: 't1' })
        .resolvesOnce({
          Configuration: encode({ version: '2', tables: { 'public.orders': { paused: true } } }),
          NextPollConfigurationToken: 't2',
        });
      const { source, changes } = setup();
      await source.refresh();

      vi.advanceTimersByTime(45_001);
      const snapshot = await source.refresh();

      expect(snapshot.version).toBe('2');
      expect(snapshot.config.tables['public.orders']?.paused).toBe(true);
      expect(changes.map((c) => [c.previous.version, c.next.version])).toEqual([
        ['0', '1'],
        ['1', '2'],
      ]);
      expect(source.current()).toBe(snapshot);
    });

    it('keeps the last good config when the content is invalid, logs every violation and counts it once', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .resolvesOnce({ Configuration: encode({ version: '1' }), NextPollConfigurationToken: 't1' })
        .resolves({
          Configuration: encode({
            version: '2',
            processing: { maxAttempts: 0, aggregateConcurrency: 'many' },
          }),
          NextPollConfigurationToken: 't2',
        });
      const { source, metrics, warnings, changes } = setup();
      await source.refresh();

      vi.advanceTimersByTime(45_001);
      const kept = await source.refresh();
      vi.advanceTimersByTime(45_001);
      await source.refresh();

      expect(kept.version).toBe('1');
      expect(changes).toHaveLength(1);
      expect(source.lastRejection).toMatchObject({ kind: 'invalid', keptVersion: '1' });
      expect(source.lastRejection?.violations.map((v) => v.path)).toEqual([
        'processing.maxAttempts',
        'processing.aggregateConcurrency',
      ]);
      expect(counted(metrics, METRICS.configInvalid)).toBe(1);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toBe('configuration refused; keeping version 1');
      expect(warnings[0]!.extra.violations).toEqual([
        'processing.maxAttempts: received 0, expected an integer from 1 to 1000',
        'processing.aggregateConcurrency: received "many", expected an integer from 1 to 512',
      ]);
    });

    it('calls content that is not JSON corrupt and keeps the last good config', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .resolvesOnce({ Configuration: encode({ version: '1' }), NextPollConfigurationToken: 't1' })
        .resolves({
          Configuration: bytes('{"version": "2", '),
          NextPollConfigurationToken: 't2',
        });
      const { source, metrics } = setup();
      await source.refresh();

      vi.advanceTimersByTime(45_001);
      const kept = await source.refresh();

      expect(kept.version).toBe('1');
      expect(source.lastRejection?.kind).toBe('corrupt');
      expect(source.lastRejection?.message).toMatch(/is not valid JSON/);
      expect(counted(metrics, METRICS.configInvalid)).toBe(1);
    });

    it('keeps the fallback when AppConfig is unreachable at cold start, and retries only after the interval', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .rejectsOnce(new BadRequestException({ message: 'Request too early', $metadata: {} }))
        .resolves({ Configuration: encode({ version: '3' }), NextPollConfigurationToken: 't' });
      const fallback = parseConfig({ version: 'stack', processing: { maxAttempts: 4 } });
      const { source, metrics, warnings } = setup({ fallback });

      const first = await source.refresh();
      await source.refresh();

      expect(first.version).toBe('stack');
      expect(first.origin).toBe('fallback');
      expect(first.config.processing.maxAttempts).toBe(4);
      expect(source.lastRejection?.kind).toBe('unreachable');
      expect(source.lastRejection?.message).toMatch(
        /AppConfigData did not answer for appconfig:cdcp\/prod\/config: Request too early/,
      );
      expect(counted(metrics, METRICS.configFetchFailures)).toBe(1);
      expect(warnings[0]!.message).toBe('configuration fetch failed; keeping version stack');
      expect(appConfigData.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);

      vi.advanceTimersByTime(45_001);
      const recovered = await source.refresh();

      expect(recovered.version).toBe('3');
      expect(source.lastRejection).toBeUndefined();
    });

    it('shares one fetch between concurrent callers', async () => {
      appConfigData
        .on(GetLatestConfigurationCommand)
        .resolves({ Configuration: encode({ version: '1' }), NextPollConfigurationToken: 't' });
      const { source } = setup();

      const [a, b, c] = await Promise.all([source.refresh(), source.refresh(), source.refresh()]);

      expect(appConfigData.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);
      expect(a).toBe(b);
      expect(b).toBe(c);
    });

    it('reports the age of the running version on every refresh', async () => {
      appConfigData.on(GetLatestConfigurationCommand).resolves({
        Configuration: encode({ version: '1', publishedAt: '2026-03-01T11:59:00.000Z' }),
        NextPollConfigurationToken: 't',
      });
      const { source, metrics } = setup();
      await source.refresh();

      vi.advanceTimersByTime(10_000);
      await source.refresh();

      const ages = metrics.filter((m) => m.name === METRICS.configVersionAge).map((m) => m.value);
      expect(ages).toEqual([60_000, 70_000]);
    });
  });
});
