// The first real call: a host signs up, creates a room and shares its link;
// guests join from other browsers; everyone sees and hears everyone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mediaGrowth, newPerson, serverAndBrowser, signUpAndIn, toggles, waitForHydration, waitForRemoteVideos, waitPressed } from './support.mjs';

const MARKUP_NAME = '<img src=x onerror="window.__pwned=1">';

describe('a call between browsers', () => {
  const env = serverAndBrowser();
  let host;
  let guest;
  let third;
  let fourth;
  let joinLink;

  it('a host signs up, creates a room and reads its join link', async () => {
    host = await newPerson(env.browser);
    const { page } = host;
    await page.goto(`${env.server.origin}/`);
    await page.getByRole('link', { name: 'Sign up' }).first().click();
    await page.waitForURL('**/signup');
    await signUpAndIn(page, env.server.origin, { email: 'host@example.org', name: 'Dr. Host', password: 'correct horse battery' });
    await page.getByRole('heading', { name: 'Your rooms' }).waitFor();

    await page.getByLabel('Room name').fill('Consultations');
    await page.getByRole('button', { name: 'Create room' }).click();
    const link = page.getByLabel('Join link for Consultations');
    await link.waitFor();
    joinLink = await link.inputValue();
    assert.match(joinLink, new RegExp(`^${env.server.origin}/r/[A-Za-z0-9_-]{24}$`));

    // "Copy link" puts exactly that link on the clipboard and says so.
    await host.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.origin });
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), joinLink);
  });

  it('a guest opens the link, joins, and host and guest see and hear each other', async () => {
    const { page: hostPage } = host;
    await hostPage.goto(joinLink);
    await waitForHydration(hostPage);
    assert.equal(await hostPage.getByLabel('Your name').inputValue(), 'Dr. Host');
    await hostPage.getByRole('button', { name: 'Join', exact: true }).click();
    await hostPage.getByText('You are the only one here').waitFor();

    guest = await newPerson(env.browser);
    const { page } = guest;
    await page.goto(joinLink);
    await waitForHydration(page);
    // The camera preview runs before joining.
    await page.waitForFunction(() => document.querySelector('video.preview')?.videoWidth > 0);
    await page.getByLabel('Your name').fill('Pat Guest');
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await waitForRemoteVideos(page, 1);
    const firstFrameMs = Date.now() - clicked;
    console.log(`join-to-first-remote-frame: ${firstFrameMs} ms`);
    await waitForRemoteVideos(hostPage, 1);

    // Your own video plays muted: nobody should hear themselves.
    for (const who of [hostPage, page]) {
      assert.equal(await who.evaluate(() => document.querySelector('.tile.self video').muted), true);
    }

    // Names on the tiles.
    await page.locator('.tile.remote figcaption', { hasText: 'Dr. Host' }).waitFor();
    await hostPage.locator('.tile.remote figcaption', { hasText: 'Pat Guest' }).waitFor();

    // Video frames keep being decoded and audio keeps arriving, both ways.
    for (const who of [hostPage, page]) {
      const [growth] = await mediaGrowth(who);
      assert.ok(growth.videoFrames > 5, `video frames decoded: ${JSON.stringify(growth)}`);
      assert.ok(growth.audioBytes > 1000, `audio received: ${JSON.stringify(growth)}`);
      assert.ok(growth.audioEnergy > 0, `audio is not silent: ${JSON.stringify(growth)}`);
    }
  });

  it('turning the camera off stops sending video, and on again resumes it', async () => {
    const { page: hostPage } = host;
    const { page } = guest;
    const camera = toggles.camera(hostPage);
    await camera.click();
    await waitPressed(camera, true);
    await page.waitForTimeout(1000);
    let [growth] = await mediaGrowth(page);
    assert.equal(growth.videoBytes, 0, `video still arriving with the camera off: ${JSON.stringify(growth)}`);
    assert.ok(growth.audioBytes > 1000, 'audio stopped with the camera');

    await camera.click();
    await waitPressed(camera, false);
    await page.waitForTimeout(1000);
    [growth] = await mediaGrowth(page);
    assert.ok(growth.videoFrames > 5, `video did not resume: ${JSON.stringify(growth)}`);
  });

  it('muting the microphone stops sending audio, and unmuting resumes it', async () => {
    const { page: hostPage } = host;
    const { page } = guest;
    const microphone = toggles.microphone(hostPage);
    await microphone.click();
    await waitPressed(microphone, true);
    await page.waitForTimeout(1000);
    let [growth] = await mediaGrowth(page);
    assert.ok(growth.audioBytes < 200, `audio still arriving while muted: ${JSON.stringify(growth)}`);
    assert.ok(growth.videoFrames > 5, 'video stopped with the microphone');

    await microphone.click();
    await waitPressed(microphone, false);
    await page.waitForTimeout(1000);
    [growth] = await mediaGrowth(page);
    assert.ok(growth.audioBytes > 1000, `audio did not resume: ${JSON.stringify(growth)}`);
  });

  it('two more people join at the same moment, and all four see three remote videos', async () => {
    third = await newPerson(env.browser);
    fourth = await newPerson(env.browser);
    for (const [person, name] of [[third, 'Sam Third'], [fourth, MARKUP_NAME]]) {
      await person.page.goto(joinLink);
      await waitForHydration(person.page);
      await person.page.getByLabel('Your name').fill(name);
    }
    // Simultaneous joins: perfect negotiation must not deadlock.
    await Promise.all(
      [third, fourth].map((p) => p.page.getByRole('button', { name: 'Join', exact: true }).click()),
    );
    const everyone = [host.page, guest.page, third.page, fourth.page];
    for (const who of everyone) {
      await waitForRemoteVideos(who, 3, 30_000);
    }
    // A name made of markup is shown as text in the hydrated call, never run.
    for (const who of [host.page, guest.page, third.page]) {
      await who.locator('.tile.remote figcaption', { hasText: MARKUP_NAME }).waitFor();
      assert.equal(await who.locator('.grid img').count(), 0);
      assert.equal(await who.evaluate(() => window.__pwned), undefined);
    }
    // Four tiles share the width rather than stacking in one column.
    const columns = await host.page.evaluate(() => new Set([...document.querySelectorAll('.grid .tile')].map((t) => Math.round(t.getBoundingClientRect().left))).size);
    assert.ok(columns >= 2, `four people in ${columns} column`);
    for (const who of everyone) {
      const growth = await mediaGrowth(who);
      assert.equal(growth.length, 3);
      for (const g of growth) assert.ok(g.videoFrames > 3, `a remote video is frozen: ${JSON.stringify(g)}`);
    }
  });

  it('when someone leaves or closes their tab, the others lose that tile', async () => {
    await fourth.page.getByRole('button', { name: 'Leave' }).click();
    await fourth.page.getByRole('heading', { name: 'You left the call' }).waitFor();
    for (const who of [host.page, guest.page, third.page]) {
      await waitForRemoteVideos(who, 2, 5000);
    }
    // Screen readers hear who left.
    await host.page.waitForFunction(() => [...document.querySelectorAll('[aria-live]')].some((e) => / left the call\.$/.test(e.textContent)));

    await third.context.close(); // closing the browser window
    await guest.context.close();
    await host.page.waitForFunction(() => document.querySelectorAll('.tile.remote').length === 0, null, {
      timeout: 5000,
    });
    await host.page.getByText('You are the only one here').waitFor();
  });
});

describe('join links', () => {
  const env = serverAndBrowser();

  it('an unknown join link shows a clear not-found page', async () => {
    const { page } = await newPerson(env.browser);
    const response = await page.goto(`${env.server.origin}/r/AAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(response.status(), 404);
    await page.getByRole('heading', { name: 'We could not find that' }).waitFor();
  });
});
