// A patient opening a join link on a slow phone network (Chromium's
// emulation of "Fast 3G": 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s
// up, nothing cached): their own camera must be live in the preview within
// a second, before the call's code has arrived, and the call's code then
// carries on with that same camera into the call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostWithRoom, joinCall, newPerson, serverAndBrowser, waitForHydration, waitForRemoteVideos } from './support.mjs';

describe('a patient on a slow phone network', () => {
  const env = serverAndBrowser();

  it('sees their own preview within a second and joins with it', async () => {
    const { host: doctor, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Slow line', 'Dr. Slow');
    await joinCall(doctor, link);
    const patient = await newPerson(env.browser);
    const cdp = await patient.context.newCDPSession(patient.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: (1.6e6 / 8) * 0.9,
      uploadThroughput: (750e3 / 8) * 0.9,
    });
    await patient.page.goto(link, { waitUntil: 'commit' });
    // From the navigation's start (the page's clock) to a preview whose
    // picture plays, and what had been loaded by then.
    const live = await (
      await patient.page.waitForFunction(
        () => {
          const video = document.querySelector('video.preview');
          if (!video || video.videoWidth === 0 || video.currentTime === 0) return false;
          const at = performance.now();
          const loaded = performance
            .getEntries()
            .filter((e) => (e.entryType === 'navigation' || e.entryType === 'resource') && e.responseEnd > 0 && e.responseEnd <= at)
            .reduce((sum, e) => sum + (e.transferSize ?? 0), 0);
          return { at: Math.round(at), loaded };
        },
        null,
        { polling: 10, timeout: 30_000 },
      )
    ).jsonValue();
    const hydrated = await (
      await patient.page.waitForFunction(
        () => {
          const join = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Join');
          return join && !join.disabled && Math.round(performance.now());
        },
        null,
        { polling: 50, timeout: 60_000 },
      )
    ).jsonValue();
    console.log(`# slow phone network: own preview live after ${live.at} ms with ${Math.round(live.loaded / 1000)} KB loaded; the call's code ready after ${hydrated} ms`);
    assert.ok(live.at <= 1000, `the preview is live within 1.0 s (${live.at} ms)`);
    assert.ok(live.at < hydrated, 'before the call\'s code has arrived');

    // The call's code took that camera on: the same stream, still playing,
    // and sent once the patient joins.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await waitForHydration(patient.page);
    assert.equal(await patient.page.evaluate(() => window.__huddlePreview), undefined, 'the early stream was taken over');
    await patient.page.getByLabel('Your name').fill('Patient');
    await patient.page.getByRole('button', { name: 'Join', exact: true }).click();
    await waitForRemoteVideos(doctor.page, 1, 30_000);
    await waitForRemoteVideos(patient.page, 1, 30_000);
  });
});
