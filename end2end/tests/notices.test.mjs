// Nothing fails silently: a refusal from the server is said on screen (in
// the live region), and a host's action is confirmed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callAction, hostWithRoom, joinCall, newPerson, serverAndBrowser, setRoomSize, turnOnLobby, waitForRemoteVideos } from './support.mjs';

describe('refusals and host actions are said on screen', () => {
  const env = serverAndBrowser();

  it('the host is told a full call is why Admit did nothing, and sees what their actions did', async () => {
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

    // The call holds two: admitting a third is refused, and the host reads why.
    const sam = await newPerson(env.browser);
    await joinCall(sam, joinLink, 'Sam Guest');
    await host.page.getByRole('button', { name: 'Admit Sam Guest' }).click();
    await host.page.getByRole('status').getByText('The call is full. Someone has to leave before you can let more people in.').waitFor();
    await sam.page.waitForTimeout(300);
    assert.equal(await sam.page.getByText('Waiting for the host to let you in.').count(), 1, 'still waiting');
    assert.equal(await host.page.locator('.tile.remote').count(), 1);
  });
});
