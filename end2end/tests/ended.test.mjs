// Each way out of a call has its own calm screen saying what happened:
// the call ended (with a summary for the host), removed, turned away, a
// full call; a wrong passcode asks again on the form with the name kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callAction, hostWithRoom, joinCall, newPerson, personAction, serverAndBrowser, setRoomSize, waitForRemoteVideos } from './support.mjs';

/** The end screen's heading and first sentence on `page`. */
async function endScreen(page) {
  const screen = page.locator('.ended');
  await screen.waitFor();
  return { heading: await screen.getByRole('heading', { level: 1 }).textContent(), text: await screen.locator('p').first().textContent() };
}

describe('end screens', () => {
  const env = serverAndBrowser();
  let host;
  let joinLink;

  it('a call ended by the host: thanks for the guest, a summary for the host linked to the attendance', async () => {
    ({ host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Follow-ups'));
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    await joinCall(guest, joinLink, 'Pat Guest');
    await waitForRemoteVideos(host.page, 1);
    host.page.once('dialog', (dialog) => dialog.accept());
    await callAction(host.page, 'End for everyone');

    assert.deepEqual(await endScreen(guest.page), { heading: 'The call has ended', text: 'The host ended the call. Thank you for joining.' });
    assert.equal(await guest.page.getByRole('button', { name: 'Try again' }).count(), 0, 'nothing to try again');
    assert.equal(await guest.page.locator('.summary').count(), 0, 'the summary is the host\'s');
    assert.deepEqual(await endScreen(host.page), { heading: 'The call has ended', text: 'You ended the call for everyone.' });
    await host.page.getByText('You were in the call for less than a minute.').waitFor();
    await host.page.getByText('With you: Pat Guest.').waitFor();
    await host.page.getByRole('link', { name: 'See the attendance' }).click();
    await host.page.waitForURL(/\/rooms\/\d+#attendance$/);
    await host.page.locator('table.attendance td', { hasText: 'Pat Guest' }).waitFor();
  });

  it('removed, and then turned away when asking again', async () => {
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    await joinCall(guest, joinLink, 'Sam Removed');
    await waitForRemoteVideos(host.page, 1);
    await personAction(host.page, 'Sam Removed', 'Remove Sam Removed');
    assert.deepEqual(await endScreen(guest.page), {
      heading: 'You were removed from the call',
      text: 'The host removed you from the call. If you think this is a mistake, contact whoever sent you the link.',
    });
    // Asking again means waiting to be let in, with the name kept.
    await guest.page.getByRole('button', { name: 'Ask to join again' }).click();
    assert.equal(await guest.page.getByLabel('Your name').inputValue(), 'Sam Removed');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.page.getByText('Waiting for the host to let you in.').waitFor();
    await host.page.getByRole('button', { name: 'Deny Sam Removed' }).click();
    assert.deepEqual(await endScreen(guest.page), {
      heading: 'The host did not let you in',
      text: 'The host did not let you in this time. If you think this is a mistake, contact whoever sent you the link.',
    });
    await host.page.getByRole('button', { name: 'Leave' }).click();
    await host.page.getByRole('button', { name: 'Just leave (the call goes on)' }).click();
    await host.page.getByRole('heading', { name: 'You left the call' }).waitFor();
    await host.page.getByRole('button', { name: 'Rejoin' }).waitFor();
  });

  it("the host's hang-up asks: just leaving lets the call go on, the guests read that the host left; in a consultation ending comes first", async () => {
    await joinCall(host, joinLink);
    const guest = await newPerson(env.browser);
    await joinCall(guest, joinLink, 'Kim Stays');
    await host.page.getByRole('button', { name: 'Admit Kim Stays' }).click();
    await waitForRemoteVideos(host.page, 1);
    await guest.page.getByText('In the call with 1 other person.').waitFor();
    // In a meeting, leaving comes first; End for everyone needs no second question.
    await host.page.getByRole('button', { name: 'Leave' }).click();
    const choices = host.page.locator('.menu.hang-up .menu-items button');
    assert.deepEqual(await choices.allTextContents(), ['Just leave (the call goes on)', 'End for everyone']);
    await host.page.keyboard.press('Escape');
    assert.equal(await choices.first().isVisible(), false, 'Escape closes it');
    await host.page.getByRole('button', { name: 'Leave' }).click();
    await host.page.getByRole('button', { name: 'Just leave (the call goes on)' }).click();
    await host.page.getByRole('heading', { name: 'You left the call' }).waitFor();
    // The guest is told the truth, not asked to share the link.
    await guest.page.getByText('The host left the call. You can wait for them to come back, or leave.').waitFor();
    assert.equal(await guest.page.getByText('Share the link').count(), 0);
    await host.page.getByRole('button', { name: 'Rejoin' }).click();
    await host.page.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.page.getByText('In the call with 1 other person.').waitFor();
    await guest.page.getByRole('button', { name: 'Leave' }).click();
    await host.page.getByRole('button', { name: 'Leave' }).click();
    await host.page.getByRole('button', { name: 'Just leave (the call goes on)' }).click();

    // A consultation's hang-up offers ending the visit first, and does it.
    await host.page.goto(`${env.server.origin}/rooms`);
    await host.page.getByLabel('Room name').fill('Visits');
    await host.page.getByRole('radio', { name: 'Consultation' }).check();
    await host.page.getByRole('button', { name: 'Create room' }).click();
    const visits = await host.page.getByLabel('Join link for Visits').inputValue();
    await joinCall(host, visits);
    const patient = await newPerson(env.browser);
    await joinCall(patient, visits, 'Pat Patient');
    // A guest's pages offer no account, and name whom they wait for.
    await patient.page.getByText('Waiting for the host to let you in.').waitFor();
    assert.equal(await patient.page.getByRole('link', { name: /^Sign (in|up)$/ }).count(), 0, 'no account links for a guest');
    await patient.page.getByText('Your host: Dr. Host').waitFor();
    await host.page.getByRole('button', { name: 'Admit Pat Patient' }).click();
    await waitForRemoteVideos(host.page, 1);
    await host.page.getByRole('button', { name: 'Leave' }).click();
    assert.deepEqual(await choices.allTextContents(), ['End for everyone', 'Just leave (the call goes on)']);
    let asked = false;
    host.page.once('dialog', (dialog) => {
      asked = true;
      dialog.dismiss();
    });
    await choices.first().click();
    assert.deepEqual(await endScreen(patient.page), { heading: 'The call has ended', text: 'The host ended the call. Thank you for joining.' });
    assert.deepEqual(await endScreen(host.page), { heading: 'The call has ended', text: 'You ended the call for everyone.' });
    assert.equal(asked, false, 'the hang-up\'s choice is the answer: no second question');
  });

  it('a full call says so and offers to try again', async () => {
    // A room of its own: after the removal above, anyone new from this
    // address (every browser here) waits in Follow-ups' lobby for a while.
    await host.page.goto(`${env.server.origin}/rooms`);
    await host.page.getByLabel('Room name').fill('Walk-ins');
    await host.page.getByRole('button', { name: 'Create room' }).click();
    joinLink = await host.page.getByLabel('Join link for Walk-ins').inputValue();
    await host.page.getByRole('link', { name: 'Settings of Walk-ins' }).click();
    await setRoomSize(host.page, 2);
    await joinCall(host, joinLink);
    const first = await newPerson(env.browser);
    await joinCall(first, joinLink, 'First In');
    await waitForRemoteVideos(host.page, 1);
    const late = await newPerson(env.browser);
    await joinCall(late, joinLink, 'Late Lou');
    assert.deepEqual(await endScreen(late.page), { heading: 'This call is full', text: 'Someone has to leave before you can join. Try again in a few minutes.' });
    await first.page.getByRole('button', { name: 'Leave' }).click();
    await late.page.getByRole('button', { name: 'Try again' }).click();
    assert.equal(await late.page.getByLabel('Your name').inputValue(), 'Late Lou', 'the name is kept');
    await late.page.getByRole('button', { name: 'Join', exact: true }).click();
    await waitForRemoteVideos(late.page, 1);
  });
});
