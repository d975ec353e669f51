// Nothing fails silently: a refusal from the server is said on screen (in
// the live region), and a host's action is confirmed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callAction, hostWithRoom, joinCall, newPerson, serverAndBrowser, setRoomSize, turnOnLobby, waitForRemoteVideos } from './support.mjs';

describe('refusals and host actions are said on screen', () => {
  const env = serverAndBrowser();

  it('a guest let into a full call is told so and enters when someone leaves; the host sees what their actions did', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Small group');
    await host.page.getByRole('link', { name: 'Settings of Small group' }).click();
    await turnOnLobby(host.page);
    await setRoomSize(host.page, 2);

    await joinCall(host, joinLink);
    const pat = await newPerson(env.browser);
    await joinCall(pat, joinLink, 'Pat Guest');
    await host.page.getByRole('button', { name: 'Admit Pat Guest' }).click();
    await waitForRemoteVideos(host.page, 1);

    // A host action is confirmed to the host, and felt by the guest.
    await callAction(host.page, 'Mute everyone');
    await host.page.getByRole('status').getByText('You muted everyone else.').waitFor();
    await pat.page.getByText('The host muted your microphone.').waitFor();

    // The call holds two: a third let in waits for a place, and both read why.
    const sam = await newPerson(env.browser);
    await joinCall(sam, joinLink, 'Sam Guest');
    await host.page.getByRole('button', { name: 'Admit Sam Guest' }).click();
    const full = host.page.getByRole('status').getByText('The call is full. Whoever you let in joins as soon as someone leaves.');
    await full.waitFor();
    // An ordinary notice fades by itself after a few seconds.
    assert.equal(await full.evaluate((p) => getComputedStyle(p).animationName), 'fade-away');
    await sam.page.getByText('The host has let you in, but the call is full: you join as soon as someone leaves. Keep this page open.').waitFor();
    await host.page.locator('.lobby li', { hasText: 'Sam Guest' }).getByText('joins as soon as someone leaves').waitFor();
    assert.equal(await host.page.locator('.tile.remote').count(), 1);
    // Pat leaves: Sam takes the place without the host doing anything.
    await pat.page.getByRole('button', { name: 'Leave' }).click();
    await waitForRemoteVideos(sam.page, 1, 20_000);
    await host.page.locator('.tile.remote', { hasText: 'Sam Guest' }).waitFor();
  });
});
