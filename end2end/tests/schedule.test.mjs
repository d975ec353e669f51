// Scheduling: a host schedules a weekly session from a room's settings,
// sees it on the dashboard and downloads its calendar file; a guest who
// opens the link before the session sees when it starts, and the page lets
// them in by itself when the join window opens.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { localMeeting, newPerson, serverAndBrowser, signUpAndIn, waitForHydration } from './support.mjs';

describe('scheduled sessions', () => {
  // No early joining, so a session a few seconds ahead opens on time.
  const env = serverAndBrowser({ HUDDLE_JOIN_EARLY_MINUTES: '0' });
  let host;

  it('a host schedules a weekly session and gets its calendar file', async () => {
    host = await newPerson(env.browser);
    const { page } = host;
    await signUpAndIn(page, env.server.origin, { email: 'host@example.org', name: 'Dr. Host', password: 'correct horse battery' });
    await page.getByLabel('Room name').fill('Clinic');
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.getByRole('link', { name: 'Settings of Clinic' }).click();

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Title').fill('Physio, Pat');
    await page.getByLabel('Date').fill(tomorrow);
    await page.getByLabel('Start time').fill('09:00');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Length in minutes').fill('45');
    await page.getByLabel('Every week').check();
    await page.getByLabel('Number of weeks').fill('3');
    await page.getByLabel('Note for the guest (optional)').fill('Wear something comfortable.');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.getByText('The session is scheduled').waitFor();
    await localMeeting(page.locator('.session time'), '09:00–09:45 (Europe/Berlin)');
    await page.getByText('Weekly, 3 times').waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download calendar file for Physio, Pat' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'physio-pat.ics');
    const ics = readFileSync(await download.path(), 'utf8');
    assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
    assert.match(ics, /\r\nSUMMARY:Physio\\, Pat\r\n/);
    assert.match(ics, /\r\nRDATE:\d{8}T\d{6}Z,\d{8}T\d{6}Z\r\n/);
    assert.match(ics, /\r\nTRIGGER:-PT15M\r\n/);

    // The dashboard lists it with its join link and a Start button.
    await page.getByRole('link', { name: 'Your rooms' }).first().click();
    await page.getByRole('heading', { name: 'Upcoming' }).waitFor();
    await page.getByRole('link', { name: 'Start Physio, Pat' }).waitFor();
  });

  it('a guest who comes early waits on the page, which opens by itself', async () => {
    const { page } = host;
    // A second room with a session a few seconds ahead (seconds are allowed
    // through the API; the form asks for minutes).
    await page.getByLabel('Room name').fill('Soon');
    await page.getByRole('button', { name: 'Create room' }).click();
    const joinLink = await page.getByLabel('Join link for Soon').inputValue();
    const startsAt = new Date(Date.now() + 8_000);
    const result = await page.evaluate(async (starts) => {
      const rooms = await (await fetch('/api/my_rooms', { method: 'POST' })).json();
      const room = rooms.find((r) => r.name === 'Soon');
      const body = new URLSearchParams({
        room: String(room.id),
        title: 'Drop-in',
        date: starts.slice(0, 10),
        time: starts.slice(11, 19),
        time_zone: 'UTC',
        duration_minutes: '30',
      });
      const response = await fetch('/api/schedule_session', { method: 'POST', body });
      return response.status;
    }, startsAt.toISOString());
    assert.equal(result, 200);

    const guest = await newPerson(env.browser);
    await guest.page.goto(joinLink);
    await guest.page.getByText('“Drop-in” starts at').waitFor();
    const button = guest.page.getByRole('button', { name: 'Not open yet' });
    await button.waitFor();
    assert.equal(await button.isDisabled(), true);
    // No reload: the page turns joinable when the window opens.
    await guest.page.getByRole('button', { name: 'Join', exact: true }).waitFor({ timeout: 20_000 });
    assert.ok(Date.now() >= startsAt.getTime() - 1_000, 'it opened early');
    await waitForHydration(guest.page);
    await guest.page.getByLabel('Your name').fill('Pat Guest');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.page.getByText('The host is not in the call yet. You can wait for them here.').waitFor();
  });
});
