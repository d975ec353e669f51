// The call screen as a person sees it: the other person large on a dark
// stage, oneself small in a corner, one row of buttons that say their
// state, the chat inside the screen on a phone, initials for a camera that
// is off, and the truth about media that starts late.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostWithRoom, joinCall, newPerson, serverAndBrowser, toggles, waitForHydration, waitForRemoteVideos, waitPressed } from './support.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** Share of the viewport covered by the picture of `selector`'s video (its
 * drawn content, not its box: a 4:3 picture in a wide box leaves bars). */
function pictureShare(page, selector) {
  return page.evaluate((selector) => {
    const video = document.querySelector(selector);
    const box = video.getBoundingClientRect();
    const visible = Math.max(0, Math.min(box.bottom, innerHeight) - Math.max(box.top, 0));
    const scale = Math.min(box.width / video.videoWidth, box.height / video.videoHeight);
    const drawn = Math.min(video.videoWidth * scale, box.width) * Math.min(video.videoHeight * scale, visible);
    return drawn / (innerWidth * innerHeight);
  }, selector);
}

/** Share of the viewport a box covers. */
function boxShare(page, selector) {
  return page.evaluate((selector) => {
    const box = document.querySelector(selector).getBoundingClientRect();
    return (box.width * box.height) / (innerWidth * innerHeight);
  }, selector);
}

describe('the call stage', () => {
  const env = serverAndBrowser();
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

  it('a 1:1 call fills the screen with the other person and keeps oneself small, with no site header', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Consultation');
    await host.page.setViewportSize({ width: 1280, height: 800 });
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser, phone);
    await joinCall(guest, joinLink, 'Pat Guest');
    await waitForRemoteVideos(host.page, 1);
    await waitForRemoteVideos(guest.page, 1);

    const remote = await pictureShare(host.page, '.tile.remote video');
    const self = await boxShare(host.page, '.tile.self');
    console.log(`1280×800: the other person's picture covers ${(remote * 100).toFixed(1)} %, the self-view ${(self * 100).toFixed(1)} %`);
    assert.ok(remote >= 0.5, `the other person covers ${remote} of the screen`);
    assert.ok(self < 0.1, `the self-view covers ${self} of the screen`);
    assert.equal(await host.page.locator('.site-header').isVisible(), false, 'no site header in a call');
    assert.equal(await guest.page.getByRole('link', { name: 'Sign in' }).isVisible(), false, 'no "Sign in" shown to a guest mid-call');
    // One row of buttons.
    const rows = await host.page.evaluate(() => new Set([...document.querySelectorAll('.controls > *:not([hidden])')].map((b) => Math.round(b.getBoundingClientRect().top))).size);
    assert.equal(rows, 1, 'the toolbar is one row');

    // On the phone: the doctor large, a toolbar of at most 12 % of the
    // height, and the chat inside the screen once opened.
    const phoneRemote = await pictureShare(guest.page, '.tile.remote video');
    const toolbar = await guest.page.locator('.controls').boundingBox();
    console.log(`390×844: the toolbar is ${toolbar.height} px (${((toolbar.height / 844) * 100).toFixed(1)} %), the doctor's picture covers ${(phoneRemote * 100).toFixed(1)} %`);
    assert.ok(toolbar.height <= 0.12 * 844, `the phone's toolbar is ${toolbar.height} px tall`);
    assert.ok(toolbar.y + toolbar.height <= 844, 'the toolbar is on screen');
    assert.ok(phoneRemote >= 0.3, `the doctor covers ${phoneRemote} of the phone's screen`);
    await guest.page.getByRole('button', { name: /^Chat/ }).tap();
    const box = await guest.page.getByLabel('Message to everyone').boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844 && box.x >= 0 && box.x + box.width <= 390, `the chat box is at ${JSON.stringify(box)}`);
    await guest.page.getByLabel('Message to everyone').fill('Hello from the phone');
    await guest.page.getByRole('button', { name: 'Send' }).tap();
    await host.page.locator('.badge').getByText('1').waitFor();
    await guest.page.getByRole('button', { name: 'Close chat' }).tap();
    assert.equal(await guest.page.getByLabel('Message to everyone').isVisible(), false);
    await guest.page.screenshot({ path: `${shots}8-phone-call.png` });
  });

  it('buttons say what they will do, and a camera that is off shows initials', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Buttons');
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    await joinCall(guest, joinLink, 'Pat Guest');
    await waitForRemoteVideos(guest.page, 1);

    const mute = host.page.getByRole('button', { name: 'Mute microphone' });
    await mute.click();
    const unmute = host.page.getByRole('button', { name: 'Unmute microphone' });
    await waitPressed(unmute, true);
    await host.page.getByRole('button', { name: 'Stop camera' }).click();
    await waitPressed(host.page.getByRole('button', { name: 'Start camera' }), true);
    await host.page.getByRole('button', { name: 'Raise hand' }).click();
    await waitPressed(host.page.getByRole('button', { name: 'Lower hand' }), true);

    // The guest sees the doctor's initials instead of a frozen frame.
    const tile = guest.page.locator('.tile.remote');
    await tile.locator('figcaption', { hasText: 'Dr. Host · muted · camera off' }).waitFor();
    const avatar = tile.locator('.avatar');
    await avatar.waitFor({ state: 'visible' });
    assert.equal(await avatar.textContent(), 'H', '"Dr." is a title, not a name');
    assert.equal(await tile.locator('video').evaluate((v) => getComputedStyle(v).opacity), '0', 'the last frame is hidden');
    await host.page.getByRole('button', { name: 'Start camera' }).click();
    await avatar.waitFor({ state: 'hidden' });

    // A person's actions are in a menu on their tile; the call's in More.
    await host.page.getByRole('button', { name: 'Options for Pat Guest' }).click();
    await host.page.getByRole('button', { name: 'Mute Pat Guest' }).click();
    await guest.page.getByText('The host muted your microphone.').waitFor();
    assert.equal(await host.page.getByRole('button', { name: 'Mute Pat Guest' }).isVisible(), false, 'the menu closes after a choice');
    await host.page.getByRole('button', { name: 'More' }).click();
    await host.page.keyboard.press('Escape');
    assert.equal(await host.page.getByRole('button', { name: 'Lock call' }).isVisible(), false, 'Escape closes the menu');
    assert.equal(await host.page.evaluate(() => document.activeElement.textContent), 'More', 'and returns to its button');
  });

  it('a camera and microphone that start after Join are sent and shown as on', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Slow prompt');
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    // The permission prompt is answered 3 s late.
    await guest.context.addInitScript(() => {
      const native = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (constraints) => new Promise((resolve) => setTimeout(resolve, 3000)).then(() => native(constraints));
    });
    await guest.page.goto(joinLink);
    await waitForHydration(guest.page);
    await guest.page.getByLabel('Your name').fill('Late Lee');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await host.page.locator('.tile.remote figcaption', { hasText: 'Late Lee' }).waitFor();
    assert.equal(await guest.page.evaluate(() => document.querySelector('.tile.self video').srcObject), null, 'joined before the camera started');

    await waitForRemoteVideos(host.page, 1, 20_000);
    const caption = host.page.locator('.tile.remote figcaption');
    await host.page.waitForFunction(() => !/muted|camera off/.test(document.querySelector('.tile.remote figcaption').textContent), null, { timeout: 10_000 });
    assert.doesNotMatch(await caption.textContent(), /muted|camera off/);
    await host.page.getByRole('button', { name: /^People/ }).click();
    await host.page.locator('.people li', { hasText: 'Late Lee' }).getByText('microphone on, camera on').waitFor();
  });

  it('the pre-join fits a phone: preview with its switches, name and Join above the fold, the rest behind "Check your setup"', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Phone check');
    await joinCall(host, joinLink);
    const patient = await newPerson(env.browser, phone);
    const { page } = patient;
    await page.goto(joinLink);
    await waitForHydration(page);
    await page.getByText('Camera and microphone are working.').waitFor();
    const join = await page.getByRole('button', { name: 'Join', exact: true }).boundingBox();
    const name = await page.getByLabel('Your name').boundingBox();
    console.log(`390×844 pre-join: Join ends at ${Math.round(join.y + join.height)} px, the page is ${await page.evaluate(() => document.documentElement.scrollHeight)} px tall`);
    assert.ok(join.y + join.height <= 844 && name.y + name.height <= 844, `Join or the name is below the fold: ${JSON.stringify({ join, name })}`);
    // Devices and the connection check wait behind "Check your setup".
    assert.equal(await page.getByLabel('Camera', { exact: true }).isVisible(), false);
    await page.getByText('Check your setup').tap();
    await page.getByLabel('Camera', { exact: true }).waitFor();
    await page.getByText("Huddle's server: reachable").waitFor();
    // The microphone switched off on the preview stays off in the call.
    await page.getByRole('button', { name: 'Mute microphone' }).tap();
    await waitPressed(page.getByRole('button', { name: 'Unmute microphone' }), true);
    await page.getByLabel('Your name').fill('Pat Phone');
    await page.getByRole('button', { name: 'Join', exact: true }).tap();
    await waitForRemoteVideos(host.page, 1);
    await host.page.locator('.tile.remote figcaption', { hasText: 'Pat Phone · muted' }).waitFor();
    await waitPressed(toggles.microphone(page), true);
    await page.goto('about:blank');
  });
});
