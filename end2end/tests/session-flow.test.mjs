// The whole scheduled-session flow, as a doctor and a patient live it: the
// host makes a consultation room, schedules a session and starts it from the
// dashboard; the guest opens the link, checks camera and microphone, waits in
// the lobby and hears from the host there; the host admits them and both see
// each other; the host mutes the guest and ends the session; the session's
// attendance CSV lists the guest. Screenshots for the README are taken on
// the way (docs/screenshots).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { callAction, mediaGrowth, newPerson, personAction, serverAndBrowser, signUpAndIn, toggles, waitForHydration, waitForRemoteVideos, waitPressed } from './support.mjs';

const shots = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const phone = { viewport: { width: 390, height: 844 } };

async function shoot(page, name) {
  await page.screenshot({ path: `${shots}${name}.png`, fullPage: false });
}

describe('a scheduled session from start to end', () => {
  const env = serverAndBrowser();

  it('schedule, start, lobby, admit, video, mute, end, attendance', async () => {
    // The host: a consultation room with a session starting in a few minutes.
    const host = await newPerson(env.browser, { viewport: { width: 1100, height: 800 } });
    const { page } = host;
    await signUpAndIn(page, env.server.origin, { email: 'dr@example.org', name: 'Dr. Okafor', password: 'correct horse battery' });
    await page.getByLabel('Room name').fill('Consultations');
    await page.getByRole('radio', { name: 'Consultation' }).check();
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.locator('.room-kind-label', { hasText: 'Consultation' }).waitFor();
    await page.getByRole('link', { name: 'Settings of Consultations' }).click();
    // The kind brought its defaults: a lobby that stays on.
    await page.getByText('A consultation always has a lobby').waitFor();
    assert.equal(await page.getByRole('radio', { name: 'Consultation' }).isChecked(), true);

    const starts = new Date(Date.now() + 5 * 60_000).toISOString();
    await page.getByLabel('Title').fill('Follow-up, Pat');
    await page.getByLabel('Date').fill(starts.slice(0, 10));
    await page.getByLabel('Start time').fill(starts.slice(11, 16));
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByLabel('Length in minutes').fill('30');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.getByText('The session is scheduled').waitFor();
    await shoot(page, '1-room-settings');
    const joinLink = await page.getByLabel('Join link for Consultations').inputValue();
    const attendanceHref = await page.getByRole('link', { name: 'Attendance for Follow-up, Pat (CSV)' }).getAttribute('href');

    // The dashboard lists it today, with its link and a Start button.
    await page.goto(`${env.server.origin}/rooms`);
    await page.getByRole('link', { name: 'Start Follow-up, Pat' }).waitFor();
    await shoot(page, '2-dashboard');
    await page.getByRole('link', { name: 'Start Follow-up, Pat' }).click();
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.getByText('You are the only one here').waitFor();

    // The guest, on a phone-sized screen: checks camera and mic, gives a
    // name, and waits in the lobby.
    const guest = await newPerson(env.browser, phone);
    await guest.page.goto(joinLink);
    await waitForHydration(guest.page);
    await guest.page.getByText('Camera and microphone are working.').waitFor();
    await guest.page.getByLabel('Your name').fill('Pat Doe');
    await shoot(guest.page, '3-guest-prejoin');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.page.getByText('Waiting for the host to let you in.').waitFor();

    // The host sees Pat waiting and writes without letting them in yet.
    await page.getByRole('heading', { name: '1 person is waiting to join' }).waitFor();
    await page.getByRole('button', { name: 'Write to Pat Doe' }).click();
    // The box has the cursor.
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === null && document.activeElement?.id?.startsWith('lobby-message-'));
    await page.getByLabel('Message to Pat Doe').fill('I will be with you in a minute.');
    await page.getByLabel('Message to Pat Doe').press('Enter');
    // Signed with the host's name, shown by default in a consultation.
    await guest.page.getByText('Dr. Okafor: I will be with you in a minute.').waitFor();
    // The host closes the box; the guest's answer opens it again.
    await page.getByRole('button', { name: 'Write to Pat Doe' }).click();
    await page.getByLabel('Message to Pat Doe').waitFor({ state: 'hidden' });
    await guest.page.getByLabel('Reply to the host').fill('Thank you, no rush.');
    await guest.page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Pat Doe: Thank you, no rush.').waitFor();
    // Still waiting: no video of the host reached the guest.
    assert.equal(await guest.page.locator('video[aria-label^="Video of"]').count(), 0);
    await shoot(page, '4-host-lobby');
    await shoot(guest.page, '5-guest-waiting');

    // Admitted: both see each other's video.
    await page.getByRole('button', { name: 'Admit Pat Doe' }).click();
    await waitForRemoteVideos(page, 1);
    await waitForRemoteVideos(guest.page, 1);
    await shoot(page, '6-in-call');

    // The host mutes the guest: told, and their audio stops reaching the host.
    await personAction(page, 'Pat Doe', 'Mute Pat Doe');
    await guest.page.getByText('The host muted your microphone.').waitFor();
    await page.waitForTimeout(500);
    const [afterMute] = await mediaGrowth(page);
    assert.equal(afterMute.audioBytes, 0, 'audio still arrives from a muted guest');
    assert.ok(afterMute.videoFrames > 0, 'video keeps flowing');

    // The host ends the session for everyone.
    page.once('dialog', (dialog) => dialog.accept());
    await callAction(page, 'End for everyone');
    await guest.page.getByText('The host ended the call.').waitFor();
    await page.getByText('You ended the call for everyone.').waitFor();

    // The session's attendance lists the guest.
    const csv = await page.evaluate(async (href) => (await fetch(href)).text(), attendanceHref);
    const rows = csv.trim().split('\r\n').slice(1).map((line) => line.split(',').slice(0, 2).join(','));
    assert.deepEqual(rows, ['Dr. Okafor,host', 'Pat Doe,guest']);
  });
});

describe('a class', () => {
  const env = serverAndBrowser();

  it('guests join muted, raise a hand, and speak once the teacher lets them', async () => {
    const teacher = await newPerson(env.browser);
    const { page } = teacher;
    await signUpAndIn(page, env.server.origin, { email: 'teacher@example.org', name: 'Ms. Teacher', password: 'correct horse battery' });
    await page.getByLabel('Room name').fill('Year 9 French');
    await page.getByRole('radio', { name: 'Class' }).check();
    await page.getByRole('button', { name: 'Create room' }).click();
    const joinLink = await page.getByLabel('Join link for Year 9 French').inputValue();
    await page.goto(joinLink);
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.getByText('You are the only one here').waitFor();

    const pupil = await newPerson(env.browser);
    await pupil.page.goto(joinLink);
    await waitForHydration(pupil.page);
    await pupil.page.getByLabel('Your name').fill('Pupil One');
    await pupil.page.getByRole('button', { name: 'Join', exact: true }).click();
    await pupil.page.getByText('Waiting for the host to let you in.').waitFor();
    await page.getByRole('button', { name: 'Admit Pupil One' }).click();
    await waitForRemoteVideos(page, 1);

    // In, but muted, and not able to unmute alone; the teacher hears nothing.
    const unmute = toggles.microphone(pupil.page);
    await waitPressed(unmute, true);
    assert.equal(await unmute.isDisabled(), true);
    await pupil.page.getByText('raise your hand to ask').waitFor();
    await page.waitForTimeout(500);
    const [muted] = await mediaGrowth(page);
    assert.equal(muted.audioBytes, 0, 'a pupil who joined muted is heard');

    // Only the teacher may share a screen in a class.
    assert.equal(await toggles.share(pupil.page).isVisible(), false);
    assert.equal(await toggles.share(page).isVisible(), true);

    // Raising a hand is the pupil's main button here (not the teacher's).
    assert.match(await toggles.hand(pupil.page).getAttribute('class'), /\bprimary\b/);
    assert.doesNotMatch((await toggles.hand(page).getAttribute('class')) ?? '', /\bprimary\b/);

    // The pupil asks; the teacher lets them speak; they unmute and are heard.
    await toggles.hand(pupil.page).click();
    await page.locator('.tile .hand-place', { hasText: 'hand raised, number 1 in line' }).waitFor();
    await personAction(page, 'Pupil One', 'Let Pupil One speak');
    await pupil.page.getByText('The host lets you speak').waitFor();
    await waitPressed(toggles.hand(pupil.page), false);
    await unmute.click();
    await waitPressed(unmute, false);
    await page.waitForTimeout(500);
    const [speaking] = await mediaGrowth(page);
    assert.ok(speaking.audioBytes > 0, 'the pupil let to speak is not heard');

    // Muted by the teacher again, they must ask again.
    await personAction(page, 'Pupil One', 'Mute Pupil One');
    await pupil.page.getByText('The host muted your microphone.').waitFor();
    await pupil.page.waitForFunction(() => {
      const b = document.querySelector('button[aria-keyshortcuts="M"]');
      return b && b.disabled && b.getAttribute('aria-pressed') === 'true';
    });
  });
});
