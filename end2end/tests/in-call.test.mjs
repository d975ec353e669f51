// Inside a call: the pre-join checks, keyboard shortcuts, chat, the list of
// people, the quality indicator, screen sharing and switching the camera,
// between a signed-in host and a guest in two Chromium profiles.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { callAction, countTones, hostWithRoom, inbound, joinCall, mediaGrowth, newPerson, personAction, serverAndBrowser, toggles, waitForHydration, waitForRemoteVideos, waitPressed } from './support.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

describe('in a call', () => {
  const env = serverAndBrowser();
  let host;
  let guest;
  let link;

  it('the pre-join screen offers device pickers, a microphone meter and a test sound', async () => {
    ({ host, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Study group'));
    guest = await newPerson(env.browser);
    // Counts the tones the test sound plays.
    await guest.context.addInitScript(countTones);
    const { page } = guest;
    await page.goto(link);
    await waitForHydration(page);
    await page.getByText('Camera and microphone are working.').waitFor();
    // The connection check (behind "Check your setup"): the server answers;
    // no relay is set up here.
    await page.getByText('Check your setup').click();
    await page.getByText(/^Huddle's server: reachable \(\d+ ms\)\.$/).waitFor();
    await page.getByText('Network: calls here connect directly, which works on most networks.').waitFor();
    // Pickers list the fake devices by name, with the one in use chosen.
    const camera = page.getByLabel('Camera', { exact: true });
    await page.waitForFunction(() => document.querySelectorAll('#pick-camera option').length >= 2);
    assert.ok((await camera.inputValue()).length > 0, 'no camera chosen');
    assert.ok((await page.locator('#pick-microphone option').count()) >= 1);
    // The meter follows the fake microphone's beeps.
    await page.getByRole('button', { name: 'Play test sound' }).click();
    await page.getByText('Playing a test sound: two notes.').waitFor();
    assert.equal(await page.evaluate(() => window.__tones), 2, 'the test sound played no two notes');
    await page.waitForFunction(() => Number(document.querySelector('#mic-level').value) > 0, null, { timeout: 10_000 });
  });

  it('a chosen camera and microphone are remembered for next time', async () => {
    const { page } = guest;
    const camera = page.getByLabel('Camera', { exact: true });
    const second = await page.locator('#pick-camera option', { hasText: 'fake_device_2' }).getAttribute('value');
    await camera.selectOption(second);
    await page.waitForFunction(
      (id) => document.querySelector('video.preview')?.srcObject?.getVideoTracks()[0]?.getSettings().deviceId === id,
      second,
    );
    const microphone = await page.locator('#pick-microphone option', { hasText: 'Fake Audio Input 1' }).getAttribute('value');
    await page.getByLabel('Microphone', { exact: true }).selectOption(microphone);
    await page.waitForFunction(
      (id) => document.querySelector('video.preview')?.srcObject?.getAudioTracks()[0]?.getSettings().deviceId === id,
      microphone,
    );
    await page.reload();
    await waitForHydration(page);
    await page.waitForFunction((id) => document.querySelector('#pick-camera')?.value === id, second);
    await page.waitForFunction((id) => document.querySelector('#pick-microphone')?.value === id, microphone);
  });

  it('both join; the host hears of it, and the keys M and V toggle microphone and camera', async () => {
    await joinCall(host, link);
    await joinCall(guest, link, 'Guest Gail');
    await waitForRemoteVideos(host.page, 1);
    await waitForRemoteVideos(guest.page, 1);
    await host.page.waitForFunction(() => [...document.querySelectorAll('[aria-live]')].some((e) => e.textContent.includes('Guest Gail joined the call.')));

    const microphone = toggles.microphone(host.page);
    assert.equal(await microphone.getAttribute('aria-keyshortcuts'), 'M');
    assert.equal(await microphone.textContent(), 'Mute microphone (M)', 'the key is in the tooltip, not the name');
    assert.equal(await toggles.camera(host.page).getAttribute('aria-keyshortcuts'), 'V');
    await host.page.locator('body').press('m');
    await waitPressed(microphone, true);
    await host.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await host.page.locator('body').press('v');
    await waitPressed(toggles.camera(host.page), true);
    // The guest sees it on the host's tile and in the list of people.
    await guest.page.locator('.tile.remote figcaption', { hasText: 'Dr. Host · muted · camera off' }).waitFor();
    await guest.page.getByRole('button', { name: /^People/ }).click();
    await guest.page.locator('.people li', { hasText: 'Dr. Host' }).getByText('muted, camera off').waitFor();
    await host.page.locator('body').press('m');
    await host.page.locator('body').press('v');
    await waitPressed(microphone, false);
    await guest.page.locator('.people li', { hasText: 'Dr. Host' }).getByText('microphone on, camera on').waitFor();
    // Typing in a field does not toggle anything.
    await host.page.getByRole('button', { name: /^Chat/ }).click();
    await host.page.getByLabel('Message to everyone').press('m');
    assert.equal(await microphone.getAttribute('aria-pressed'), 'false');
    await host.page.getByLabel('Message to everyone').fill('');
    await host.page.getByRole('button', { name: /^Chat/ }).click();
  });

  it('chat: a message reaches the other with name and time, counts as unread, and a link stays text', async () => {
    const words = 'Notes are at https://example.invalid/notes <b>bold</b>';
    await guest.page.getByRole('button', { name: /^Chat/ }).click();
    await guest.page.getByLabel('Message to everyone').fill(words);
    await guest.page.getByLabel('Message to everyone').press('Enter');
    // The host's panel is closed: an unread badge.
    await host.page.getByRole('button', { name: 'Chat 1 unread' }).waitFor();
    await host.page.getByRole('button', { name: /^Chat/ }).click();
    const line = host.page.locator('.chat .messages li', { hasText: 'Guest Gail' });
    await line.getByText(words, { exact: true }).waitFor();
    assert.match(await line.locator('.at').textContent(), /^\d{1,2}:\d{2}/);
    assert.equal(await host.page.locator('.chat a, .chat b').count(), 0, 'chat text became markup');
    await host.page.getByRole('button', { name: 'Chat', exact: true }).waitFor();
    // And back.
    await host.page.getByLabel('Message to everyone').fill('Thanks, Gail');
    await host.page.getByRole('button', { name: 'Send' }).click();
    await guest.page.locator('.chat .messages li', { hasText: 'Dr. Host' }).getByText('Thanks, Gail').waitFor();
    await guest.page.locator('.chat .messages li.mine', { hasText: 'Guest Gail (you)' }).waitFor();
    // Nothing for an empty message, and a plain error.
    await guest.page.getByRole('button', { name: 'Send' }).click();
    await guest.page.getByText('Write something first.').waitFor();
    await guest.page.getByRole('button', { name: /^People/ }).click();
  });

  it('a raised hand shows in the list of people', async () => {
    const hand = toggles.hand(host.page);
    await hand.click();
    await waitPressed(hand, true);
    await guest.page.locator('.people li', { hasText: 'Dr. Host' }).getByText('hand raised, number 1 in line').waitFor();
    await hand.click();
    await waitPressed(hand, false);
  });

  it('a poll works in a call between browsers too: asked, answered, and the result shown to both', async () => {
    await callAction(host.page, 'New poll');
    const form = host.page.getByRole('form', { name: 'New poll' });
    await form.getByLabel('Question').fill('Same time next week?');
    await form.getByRole('button', { name: 'Yes / No' }).click();
    await form.getByRole('button', { name: 'Start poll' }).click();
    const asked = guest.page.getByRole('region', { name: 'Same time next week?' });
    await asked.getByRole('radio', { name: 'Yes' }).check();
    await asked.getByRole('button', { name: 'Send answer' }).click();
    const results = host.page.getByRole('region', { name: 'Same time next week?' });
    await results.getByText('100% (1)').waitFor();
    await results.getByRole('button', { name: 'Show results to everyone' }).click();
    await asked.getByText('100% (1)').waitFor();
    await results.getByRole('button', { name: 'End poll' }).click();
    await asked.getByRole('button', { name: 'Hide poll' }).click();
    await results.getByRole('button', { name: 'Hide poll' }).click();
    assert.equal(await guest.page.locator('.poll-card').count(), 0, 'put away');
  });

  it('whoever speaks is outlined, and a tile can be pinned large', async () => {
    // The fake microphone beeps: the host's tile lights up on the guest's side.
    await guest.page.waitForFunction(() => document.querySelector('.tile.remote.speaking'), null, { timeout: 15_000, polling: 100 });
    await personAction(guest.page, 'Dr. Host', 'Pin Dr. Host');
    await guest.page.locator('.grid.has-pinned .tile.remote.pinned').waitFor();
    await guest.page.getByRole('button', { name: 'Options for Dr. Host' }).click();
    await waitPressed(guest.page.getByRole('button', { name: 'Unpin Dr. Host' }), true);
    await guest.page.getByRole('button', { name: 'Unpin Dr. Host' }).click();
    await guest.page.locator('.grid.has-pinned').waitFor({ state: 'detached' });
  });

  it('each tile shows the connection quality, with its figures on demand', async () => {
    const badge = host.page.locator('.tile.remote .quality');
    await badge.locator('summary', { hasText: /Connection: (good|fair)/ }).waitFor({ timeout: 15_000 });
    await badge.locator('summary').click();
    assert.match(await badge.locator('dt:has-text("Round trip") + dd').textContent(), /^\d+ ms$/);
    await host.page.waitForFunction(() => {
      const dd = [...document.querySelectorAll('.tile.remote .quality dt')].find((dt) => dt.textContent === 'Receiving')?.nextElementSibling;
      return dd && parseInt(dd.textContent, 10) > 50;
    });
  });

  it('a shared screen is shown large to the other, and stopping from the browser ends it', async () => {
    await toggles.share(host.page).click();
    await waitPressed(toggles.share(host.page), true);
    await host.page.getByRole('button', { name: 'Stop sharing' }).waitFor();
    const stage = guest.page.locator('.stage video[aria-label="Dr. Host\'s screen"]');
    await stage.waitFor();
    await guest.page.waitForFunction(() => {
      const v = document.querySelector('.stage video');
      return v && v.videoWidth > 0 && v.currentTime > 0;
    });
    // Its frames decode: two video streams arrive from the host now.
    const [growth] = await mediaGrowth(guest.page);
    assert.ok(growth.videoFrames > 20, `too few frames with the screen: ${JSON.stringify(growth)}`);
    const tracks = await guest.page.evaluate(() => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').flatMap((pc) => pc.getReceivers()).filter((r) => r.track.kind === 'video' && r.track.readyState === 'live').length);
    assert.ok(tracks >= 2, `screen video not received (${tracks} video tracks)`);
    // With its sound: the fake screen has an audio track too.
    const sounds = await guest.page.evaluate(() => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').flatMap((pc) => pc.getReceivers()).filter((r) => r.track.kind === 'audio' && r.track.readyState === 'live' && !r.track.muted).length);
    assert.ok(sounds >= 2, `screen sound not received (${sounds} audio tracks)`);
    // The camera tile still shows the camera.
    await waitForRemoteVideos(guest.page, 1);
    await guest.page.screenshot({ path: `${shots}7-screen-share.png` });
    // The browser's own "Stop sharing" ends the track: the call follows.
    await host.page.evaluate(() => {
      const v = document.querySelector('.stage video');
      for (const t of v.srcObject.getTracks()) t.dispatchEvent(new Event('ended'));
    });
    await waitPressed(toggles.share(host.page), false);
    await stage.waitFor({ state: 'detached' });
  });

  it('switching camera, microphone and speaker mid-call keeps the connection and its negotiation', async () => {
    const negotiated = () =>
      host.page.evaluate(() => {
        const pcs = window.__peerConnections.filter((pc) => pc.connectionState !== 'closed');
        return { count: pcs.length, state: pcs[0].signalingState, sdp: pcs[0].currentLocalDescription.sdp, remote: pcs[0].currentRemoteDescription.sdp };
      });
    // Wait out the renegotiation that stopping the screen share started.
    let before = await negotiated();
    for (;;) {
      await host.page.waitForTimeout(1000);
      const now = await negotiated();
      if (now.state === 'stable' && now.sdp === before.sdp && now.remote === before.remote) break;
      before = now;
    }
    await callAction(host.page, 'Camera and microphone settings');
    const picker = host.page.getByLabel('Camera', { exact: true });
    const other = await host.page.locator('#pick-camera option', { hasText: 'fake_device_2' }).getAttribute('value');
    assert.notEqual(await picker.inputValue(), other);
    await picker.selectOption(other);
    await host.page.waitForFunction(
      (id) => window.__peerConnections.some((pc) => pc.getSenders().some((s) => s.track?.kind === 'video' && s.track.getSettings().deviceId === id)),
      other,
    );
    const microphone = await host.page.locator('#pick-microphone option', { hasText: 'Fake Audio Input 2' }).getAttribute('value');
    await host.page.getByLabel('Microphone', { exact: true }).selectOption(microphone);
    await host.page.waitForFunction(
      (id) => window.__peerConnections.some((pc) => pc.getSenders().some((s) => s.track?.kind === 'audio' && s.track.getSettings().deviceId === id)),
      microphone,
    );
    await host.page.waitForTimeout(1000);
    const after = await negotiated();
    assert.equal(after.count, before.count, 'a new connection was made');
    assert.equal(after.sdp, before.sdp, 'the switch renegotiated');
    assert.equal(after.remote, before.remote, 'the switch renegotiated');
    const [growth] = await mediaGrowth(guest.page);
    assert.ok(growth.videoFrames > 5, `video stopped after the switch: ${JSON.stringify(growth)}`);
    assert.ok((await inbound(guest.page)).length >= 1);
    // The guest sends the host's voice to another speaker.
    await callAction(guest.page, 'Camera and microphone settings');
    const speaker = await guest.page.locator('#pick-speaker option', { hasText: 'Fake Audio Output 1' }).getAttribute('value');
    await guest.page.getByLabel('Speaker', { exact: true }).selectOption(speaker);
    await guest.page.waitForFunction((id) => document.querySelector('.tile.remote video')?.sinkId === id, speaker);
  });
});

describe('without camera or microphone', () => {
  const env = serverAndBrowser();
  let joinLink;

  it('a guest whose browser refuses them is told what to do, and joins to watch and listen', async () => {
    let host;
    ({ host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Open day'));
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    // As when the person clicks "Block" on the browser's permission prompt.
    await guest.context.addInitScript(() => {
      MediaDevices.prototype.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await guest.page.goto(joinLink);
    await waitForHydration(guest.page);
    await guest.page.getByText('Your browser is not letting Huddle use the camera or microphone. Allow them in the address bar, then reload. You can still join to watch and listen.').waitFor();
    await guest.page.getByLabel('Your name').fill('Viewer Val');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    // Val sees and hears the host; the host sees Val as muted, camera off.
    await waitForRemoteVideos(guest.page, 1);
    const [growth] = await mediaGrowth(guest.page);
    assert.ok(growth.videoFrames > 5 && growth.audioBytes > 1000, `nothing arrives for a viewer: ${JSON.stringify(growth)}`);
    await host.page.locator('.tile.remote figcaption', { hasText: 'Viewer Val · muted · camera off' }).waitFor();
  });

  it('a guest with no camera or microphone at all is told so, and may still join', async () => {
    const { page, context } = await newPerson(env.browser);
    await context.addInitScript(() => {
      MediaDevices.prototype.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
    });
    await page.goto(joinLink);
    await waitForHydration(page);
    await page.getByText('No camera or microphone could be started. Check that one is connected and not used by another app. You can still join to watch and listen.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join', exact: true }).isDisabled(), false);
  });
});
