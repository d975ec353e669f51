// The host keeps control in the call: mutes a guest (whose audio then stops
// reaching the host), sees and lowers a raised hand, locks the call, removes
// a guest, and ends the call for everyone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { callAction, hostWithRoom, joinCall, mediaGrowth, newPerson, personAction, serverAndBrowser, toggles, waitForRemoteVideos, waitPressed } from './support.mjs';

describe('host controls', () => {
  const env = serverAndBrowser();

  it('mute, hands, lock, remove and end, from the host only', async () => {
    const { host, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Year 9 French', 'Ms. Teacher');
    await joinCall(host, link);
    await host.page.getByText('You are the only one here').waitFor();
    const pupil = await newPerson(env.browser);
    await joinCall(pupil, link, 'Pupil One');
    await waitForRemoteVideos(host.page, 1);
    await waitForRemoteVideos(pupil.page, 1);

    // A guest has no host controls at all.
    assert.equal(await pupil.page.getByRole('button', { name: 'Mute everyone' }).count(), 0);
    assert.equal(await pupil.page.getByRole('button', { name: /^Remove / }).count(), 0);

    // Mute: the pupil's microphone goes off, and the host stops hearing it.
    await personAction(host.page, 'Pupil One', 'Mute Pupil One');
    await pupil.page.getByText('The host muted your microphone.').waitFor();
    await waitPressed(toggles.microphone(pupil.page), true);
    await host.page.waitForTimeout(500);
    const [afterMute] = await mediaGrowth(host.page);
    assert.equal(afterMute.audioBytes, 0, 'audio still arrives from a muted pupil');

    // A raised hand shows for both; the host lowers it.
    const hand = toggles.hand(pupil.page);
    await hand.click();
    await waitPressed(hand, true);
    await host.page.locator('.tile .hand-place', { hasText: 'hand raised, number 1 in line' }).waitFor();
    await pupil.page.getByText('(you) · muted · hand raised').waitFor();
    await personAction(host.page, 'Pupil One', "Lower Pupil One's hand");
    await waitPressed(hand, false);

    // Locked: a latecomer cannot join.
    await callAction(host.page, 'Lock call');
    await pupil.page.getByText('The host has locked this call').waitFor();
    const late = await newPerson(env.browser);
    await joinCall(late, link, 'Late Pupil');
    // Told calmly, with a way to try again; the host learns who it was.
    await late.page.getByRole('heading', { name: 'This call is locked' }).waitFor();
    await late.page.getByText('The host has locked this call, so nobody new can join now.').waitFor();
    assert.equal(await late.page.locator('.ended .form-error').count(), 0, 'not shown as a failure');
    await late.page.getByRole('button', { name: 'Try again' }).waitFor();
    await host.page.getByText('Late Pupil tried to join, but the call is locked.').waitFor();
    await callAction(host.page, 'Unlock call');

    // Removed: the pupil is out, told why, and the host's tile goes.
    await personAction(host.page, 'Pupil One', 'Remove Pupil One');
    await pupil.page.getByText('The host removed you from the call.').waitFor();
    await host.page.getByText('You are the only one here').waitFor();

    // Coming back means waiting to be let in, even without a lobby. For a
    // while after a removal anyone new from the same address waits too (all
    // browsers here share 127.0.0.1): it may be the removed pupil in a new
    // browser. The host lets the classmate in.
    await joinCall(pupil, link, 'Pupil One');
    await pupil.page.getByText('Waiting for the host to let you in.').waitFor();
    // The host knows it is the pupil they removed.
    await host.page.locator('.lobby li', { hasText: 'Pupil One' }).getByText('you removed them just now').waitFor();
    const second = await newPerson(env.browser);
    await joinCall(second, link, 'Pupil Two');
    await second.page.getByText('Waiting for the host to let you in.').waitFor();
    await host.page.getByRole('button', { name: 'Admit Pupil Two' }).click();
    await waitForRemoteVideos(second.page, 1);
    await host.page.getByRole('button', { name: 'Admit Pupil One' }).click();
    await waitForRemoteVideos(host.page, 2);

    // End for everyone, after confirming.
    host.page.once('dialog', (dialog) => dialog.accept());
    await callAction(host.page, 'End for everyone');
    await second.page.getByText('The host ended the call.').waitFor();
    await pupil.page.getByText('The host ended the call.').waitFor();
    await host.page.getByText('You ended the call for everyone.').waitFor();

    // The attendance lists everyone who was in, and downloads as CSV.
    await host.page.goto(`${env.server.origin}/rooms`);
    await host.page.getByRole('link', { name: 'Settings of Year 9 French' }).click();
    await host.page.getByRole('cell', { name: 'Pupil Two' }).waitFor();
    const [download] = await Promise.all([
      host.page.waitForEvent('download'),
      host.page.getByRole('link', { name: 'Download attendance (CSV)' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    const names = csv.trim().split('\r\n').slice(1).map((line) => line.split(',').slice(0, 2).join(','));
    // One row per stay: Pupil One came twice (removed, then let back in).
    assert.deepEqual(names, ['Ms. Teacher,host', 'Pupil One,guest', 'Pupil Two,guest', 'Pupil One,guest']);
  });
});
