// A room's settings in sections, each form back at its own section; the
// schedule's time zone is the browser's until changed; every session card
// has Copy link; attendance reads in the viewer's own time zone; and the
// dashboard lists who is waiting, live.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinCall, localMeeting, newPerson, serverAndBrowser, signUpAndIn, waitForRemoteVideos } from './support.mjs';

describe('settings and dashboard', () => {
  const env = serverAndBrowser();
  let host;
  let joinLink;

  it('settings come in sections, the time zone is the browser\'s, and a session card copies its link', async () => {
    // A doctor in New York.
    host = await newPerson(env.browser, { timezoneId: 'America/New_York', permissions: ['clipboard-read', 'clipboard-write'] });
    const { page } = host;
    await signUpAndIn(page, env.server.origin, { email: 'host@example.org', name: 'Dr. Host', password: 'correct horse battery' });
    await page.getByLabel('Room name').fill('Clinic');
    await page.getByRole('button', { name: 'Create room' }).click();
    joinLink = await page.getByLabel('Join link for Clinic').inputValue();
    await page.getByRole('link', { name: 'Settings of Clinic' }).click();

    const nav = page.getByRole('navigation', { name: 'Sections of the settings' });
    for (const section of ['General', 'Guests', 'Schedule', 'Attendance']) {
      await nav.getByRole('link', { name: section }).waitFor();
      assert.equal(await page.getByRole('region', { name: section }).count(), 1, `a ${section} section`);
    }
    await page.waitForFunction(() => document.querySelector('#field-time_zone').value === 'America/New_York');

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Title').fill('Check-up, Pat');
    await page.getByLabel('Date').fill(tomorrow);
    await page.getByLabel('Start time').fill('09:00');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    // Back in the Schedule section, which says so.
    await page.waitForURL(/#schedule$/);
    await page.getByRole('region', { name: 'Schedule' }).getByText('The session is scheduled').waitFor();
    // Its card copies the link.
    const card = page.locator('.session', { hasText: 'Check-up, Pat' });
    // The meeting, at 09:00 in New York, which is this browser's zone too.
    assert.match(await localMeeting(card.locator('time'), '09:00–09:30 (America/New_York)'), /(^|\D)0?9:00/);
    assert.equal(await card.getByLabel('Join link for Check-up, Pat').inputValue(), joinLink);
    await card.getByRole('button', { name: 'Copy link' }).click();
    await card.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), joinLink);
    // And so does the dashboard's.
    await page.getByRole('link', { name: '← Your rooms' }).click();
    const upcoming = page.locator('.upcoming', { hasText: 'Check-up, Pat' });
    await upcoming.getByRole('button', { name: 'Copy link' }).waitFor();
  });

  it('the dashboard lists who waits, live, and the tab title counts them', async () => {
    const { page } = host;
    // A room with nothing scheduled: its link is open any time.
    await page.getByLabel('Room name').fill('Walk-in');
    await page.getByRole('radio', { name: 'Consultation' }).check();
    await page.getByRole('button', { name: 'Create room' }).click();
    const walkIn = await page.getByLabel('Join link for Walk-in').inputValue();
    await page.getByRole('heading', { name: 'Your rooms' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Waiting now' }).isVisible(), false);
    const pat = await newPerson(env.browser);
    await joinCall(pat, walkIn, 'Pat Early');
    await pat.page.getByText('The host has not joined yet').waitFor();
    const knocked = Date.now();
    await page.getByText('Pat Early is waiting in Walk-in').waitFor({ timeout: 10_000 });
    console.log(`the dashboard listed the waiting guest ${Date.now() - knocked} ms after the knock`);
    await page.waitForFunction(() => document.title.startsWith('(1) waiting · '));
    // Signed out in another tab: the list and the count go rather than
    // staying there, stale.
    const other = await host.context.newPage();
    await other.goto(`${env.server.origin}/rooms`);
    await other.getByRole('button', { name: 'Sign out', exact: true }).click();
    await other.waitForURL(`${env.server.origin}/`);
    await page.getByText('Pat Early is waiting in Walk-in').waitFor({ state: 'hidden', timeout: 10_000 });
    await page.waitForFunction(() => !document.title.includes('waiting'));
    await other.goto(`${env.server.origin}/login`);
    await other.getByLabel('Email').fill('host@example.org');
    await other.getByLabel('Password').fill('correct horse battery');
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.waitForURL('**/rooms');
    await other.close();
    await page.reload();
    await page.getByRole('link', { name: 'Open Walk-in' }).click();
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.getByRole('button', { name: 'Admit Pat Early' }).click();
    await waitForRemoteVideos(page, 1);
    await pat.page.getByRole('button', { name: 'Leave' }).click();
    await page.getByRole('button', { name: 'Leave' }).click();
    await page.getByRole('button', { name: 'Just leave (the call goes on)' }).click();
  });

  it('attendance reads in the viewer\'s time zone', async () => {
    const { page } = host;
    await page.goto(`${env.server.origin}/rooms`);
    await page.getByRole('link', { name: 'Settings of Walk-in' }).click();
    const attendance = page.getByRole('region', { name: 'Attendance' });
    const joined = attendance.locator('tr', { hasText: 'Pat Early' }).locator('time').first();
    await joined.waitFor();
    // The server wrote UTC; the page shows the instant as New York reads it.
    await page.waitForFunction(() => !document.querySelector('table.attendance time').textContent.includes('UTC'));
    const { text, title, expected } = await joined.evaluate((t) => ({
      text: t.textContent,
      title: t.title,
      expected: new Date(Number(t.dataset.atMs)).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'America/New_York' }),
    }));
    assert.match(title, /UTC$/);
    assert.equal(text, expected);
  });
});
