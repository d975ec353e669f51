// The lobby: a guest waits until the host lets them in; another is turned
// away politely.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostWithRoom, joinCall, mediaGrowth, newPerson, serverAndBrowser, turnOnLobby, waitForHydration, waitForRemoteVideos } from './support.mjs';

describe('the lobby', () => {
  const env = serverAndBrowser();

  it('the host turns the lobby on, admits one guest and turns another away', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Consultations');
    await host.page.getByRole('link', { name: 'Settings of Consultations' }).click();
    await turnOnLobby(host.page);
    assert.equal(await host.page.getByLabel('Guests wait in a lobby until I let them in').isChecked(), true);

    // A guest arrives before the host: waits, seeing nothing of the room.
    const pat = await newPerson(env.browser);
    await joinCall(pat, joinLink, 'Pat Guest');
    await pat.page.getByText('Waiting for the host to let you in.').waitFor();

    await joinCall(host, joinLink);
    await host.page.getByRole('heading', { name: '1 person is waiting to join' }).waitFor();
    // Not let in by the host's arrival.
    await pat.page.waitForTimeout(500);
    assert.equal(await pat.page.getByText('Waiting for the host to let you in.').count(), 1);
    assert.equal(await pat.page.evaluate(() => window.__peerConnections.length), 0, 'no media while waiting');

    await host.page.getByRole('button', { name: 'Admit Pat Guest' }).click();
    await waitForRemoteVideos(pat.page, 1);
    await waitForRemoteVideos(host.page, 1);
    for (const page of [host.page, pat.page]) {
      const [growth] = await mediaGrowth(page);
      assert.ok(growth.videoFrames > 10, 'video flows once admitted');
    }
    assert.equal(await host.page.getByRole('heading', { name: /waiting to join/ }).count(), 0, 'the lobby list is gone');

    // Someone else knocks and is turned away.
    const stranger = await newPerson(env.browser);
    await joinCall(stranger, joinLink, 'Stranger');
    await stranger.page.getByText('Waiting for the host to let you in.').waitFor();
    await host.page.getByRole('button', { name: 'Deny Stranger' }).click();
    await stranger.page.getByText('The host did not let you in this time.').waitFor();
    assert.equal(await stranger.page.evaluate(() => window.__peerConnections.length), 0);
    // Two more knock at once: Deny all turns both away, and the list is gone.
    const knockers = [await newPerson(env.browser), await newPerson(env.browser)];
    for (const [i, knocker] of knockers.entries()) {
      await joinCall(knocker, joinLink, `Knocker ${i + 1}`);
      await knocker.page.getByText('Waiting for the host to let you in.').waitFor();
    }
    await host.page.getByRole('heading', { name: '2 people are waiting to join' }).waitFor();
    await host.page.getByRole('button', { name: 'Deny all' }).click();
    for (const knocker of knockers) await knocker.page.getByText('The host did not let you in this time.').waitFor();
    await host.page.getByRole('heading', { name: /waiting to join/ }).waitFor({ state: 'detached' });
    // The call carries on.
    assert.equal(await host.page.locator('.tile.remote').count(), 1);
  });
});

describe('a room passcode', () => {
  const env = serverAndBrowser();

  it('a guest with the wrong passcode is told so, and with the right one gets in', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Private');
    await host.page.getByRole('link', { name: 'Settings of Private' }).click();
    await host.page.getByLabel('Passcode (optional)').fill('4812');
    await host.page.getByRole('button', { name: 'Save passcode' }).click();
    await host.page.getByText('The passcode setting is saved.').waitFor();

    const guest = await newPerson(env.browser);
    await guest.page.goto(joinLink);
    await waitForHydration(guest.page);
    await guest.page.getByLabel('Your name').fill('Pat Guest');
    await guest.page.getByLabel('Passcode').fill('1234');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    // Back on the form, which says what was wrong and keeps the name.
    await guest.page.locator('#field-passcode-error', { hasText: 'That passcode is not right.' }).waitFor();
    assert.equal(await guest.page.getByLabel('Passcode').getAttribute('aria-invalid'), 'true');
    assert.equal(await guest.page.getByLabel('Your name').inputValue(), 'Pat Guest');
    await waitForHydration(guest.page);
    await guest.page.getByLabel('Passcode').fill('4812');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    // In, before the host: told so, not asked to share the link.
    await guest.page.getByText('The host is not in the call yet. You can wait for them here.').waitFor();
  });
});
