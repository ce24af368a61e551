import { afterEach, describe, expect, it } from 'vitest';
import { startControlServer } from '../../../localstack/run/control-server.js';
import { LiveView } from '../../../localstack/run/live-view.js';
import { noWorkers } from '../../../localstack/run/worker-group.js';

/** A run whose workers have not processed anything yet. */
const idleGroup = noWorkers();

describe('Function: startControlServer (the live dashboard)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(() => close?.());

  async function start(live?: LiveView) {
    const server = await startControlServer(
      () => idleGroup,
      () => live,
    );
    close = server.close;
    return server.endpoint;
  }

  it('serves the page only at the address with the token, and names the address', async () => {
    const endpoint = await start();

    expect(endpoint.dashboardUrl).toBe(`${endpoint.url}/?token=${endpoint.token}`);
    const page = await fetch(endpoint.dashboardUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<script src="/assets/uPlot.iife.min.js"></script>');
    expect(html).toContain('id="chart-lag"');
    const guessed = await fetch(`${endpoint.url}/?token=${'0'.repeat(endpoint.token.length)}`);
    expect(guessed.status).toBe(401);
    expect(await guessed.text()).toContain('open the address the run printed');
  });

  it('serves uPlot from its installed package, and nothing else from there', async () => {
    const endpoint = await start();

    const script = await fetch(`${endpoint.url}/assets/uPlot.iife.min.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('uPlot');
    expect((await fetch(`${endpoint.url}/assets/uPlot.min.css`)).status).toBe(200);
    expect((await fetch(`${endpoint.url}/assets/..%2F..%2Fpackage.json`)).status).toBe(401);
  });

  it('answers the live data with the bearer token only: starting until the run is attached', async () => {
    const live = new LiveView();
    const endpoint = await start(live);

    expect((await fetch(`${endpoint.url}/dashboard`)).status).toBe(401);
    const answer = await fetch(`${endpoint.url}/dashboard`, {
      headers: { authorization: `Bearer ${endpoint.token}` },
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ starting: true });
  });
});
