import { describe, expect, it } from 'vitest';
import { AppConfigAgentSource } from '../../../core/config/index.js';
import { METRICS } from '../../../core/constants.js';
import { ManualClock } from '../../../core/coordination/index.js';
import { OptionsError } from '../../../core/errors.js';

/** A stand-in for the agent's HTTP endpoint: answers queued responses and records the URLs asked for. */
function fakeAgent(responses: (() => Response)[]) {
  const urls: string[] = [];
  const fetch = (async (url: string | URL | Request) => {
    urls.push(String(url));
    const next = responses.shift();
    if (next === undefined) throw new Error('no response queued');
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, urls };
}

const json =
  (document: unknown, status = 200) =>
  () =>
    new Response(JSON.stringify(document), { status, headers: { 'Configuration-Version': '3' } });

function source(fetch: typeof globalThis.fetch, clock = new ManualClock()) {
  return new AppConfigAgentSource({
    applicationId: 'cdcp app',
    environmentId: 'prod',
    profileId: 'config',
    fetch,
    clock,
    minFetchIntervalMs: 1_000,
  });
}

describe('Class: AppConfigAgentSource', () => {
  it('asks the agent on localhost:2772 for the profile and applies its answer', async () => {
    const agent = fakeAgent([json({ version: '3', shedding: { active: true } })]);

    const snapshot = await source(agent.fetch).refresh();

    expect(agent.urls).toEqual([
      'http://localhost:2772/applications/cdcp%20app/environments/prod/configurations/config',
    ]);
    expect(snapshot.version).toBe('3');
    expect(snapshot.config.shedding.active).toBe(true);
    expect(snapshot.origin).toBe('appconfig-agent:cdcp%20app/prod/config');
  });

  it('asks again only after the minimum interval', async () => {
    const clock = new ManualClock();
    const agent = fakeAgent([json({ version: '3' }), json({ version: '4' })]);
    const s = source(agent.fetch, clock);
    await s.refresh();

    await clock.advance(999);
    expect((await s.refresh()).version).toBe('3');
    await clock.advance(1);
    expect((await s.refresh()).version).toBe('4');

    expect(agent.urls).toHaveLength(2);
  });

  it('keeps the last good config when the agent answers an error, naming the status', async () => {
    const clock = new ManualClock();
    const agent = fakeAgent([
      json({ version: '3' }),
      () => new Response('profile not found', { status: 404 }),
    ]);
    const s = source(agent.fetch, clock);
    await s.refresh();

    await clock.advance(1_000);
    const kept = await s.refresh();

    expect(kept.version).toBe('3');
    expect(s.lastRejection).toMatchObject({ kind: 'unreachable', keptVersion: '3' });
    expect(s.lastRejection?.message).toBe(
      'the AppConfig agent answered 404 for http://localhost:2772/applications/cdcp%20app/environments/prod/configurations/config: profile not found',
    );
  });

  it('says the extension may be missing when nothing listens', async () => {
    const agent = fakeAgent([
      () => {
        throw new TypeError('fetch failed');
      },
    ]);
    const s = source(agent.fetch);

    await s.refresh();

    expect(s.current().origin).toBe('fallback');
    expect(s.lastRejection?.message).toMatch(
      /did not answer \(fetch failed\); is the extension layer on the function\?$/,
    );
  });

  it('counts every failed request but logs a repeated reason once', async () => {
    const clock = new ManualClock();
    const down = () => new Response('unavailable', { status: 503 });
    const agent = fakeAgent([down, down, () => new Response('throttled', { status: 429 })]);
    const metrics: string[] = [];
    const warnings: string[] = [];
    const s = new AppConfigAgentSource({
      applicationId: 'a',
      environmentId: 'e',
      profileId: 'p',
      fetch: agent.fetch,
      clock,
      metrics: { addMetric: (name) => metrics.push(name) },
      logger: { info: () => {}, warn: (_message, extra) => warnings.push(String(extra.reason)) },
    });

    for (let i = 0; i < 3; i++) {
      await s.refresh();
      await clock.advance(1_000);
    }

    expect(metrics.filter((m) => m === METRICS.configFetchFailures)).toHaveLength(3);
    expect(warnings).toEqual([
      expect.stringContaining('answered 503'),
      expect.stringContaining('answered 429'),
    ]);
  });

  it('refuses an agent URL with a path', () => {
    expect(
      () =>
        new AppConfigAgentSource({
          applicationId: 'a',
          environmentId: 'e',
          profileId: 'p',
          agentUrl: 'http://localhost:2772/applications',
        }),
    ).toThrow(OptionsError);
  });
});
