// A doctor never misses a waiting patient: a banner with Admit on the call
// screen within 2 s of the knock, the count in the tab's title, a chime,
// and a browser notification while looking elsewhere, if asked for;
// and the patient reads the truth about whether the doctor is there yet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callAction, countTones, hostWithRoom, joinCall, newPerson, serverAndBrowser, waitForRemoteVideos } from './support.mjs';

describe('a waiting guest', () => {
  const env = serverAndBrowser();

  it('is told whether the host is there, and the host sees them at once wherever they are', async () => {
    // A consultation: always a lobby.
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Clinic', 'Dr. Host', 'Consultation');
    await host.page.getByRole('link', { name: 'Settings of Clinic' }).click();
    // The doctor chooses to show their name and a note to waiting patients.
    await host.page.getByLabel('Show my name to guests before they join').check();
    await host.page.getByLabel('Welcome note (optional)').fill('Please have your medication list at hand.');
    await host.page.getByRole('button', { name: 'Save what guests see' }).click();
    await host.page.getByText('What guests see before you let them in is saved.').waitFor();
    assert.match(host.page.url(), /#guests$/, 'back at the section saved');

    // The patient is early: nobody can let them in yet, and the page says so.
    const patient = await newPerson(env.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await patient.page.goto(joinLink);
    // Before joining and while waiting: the doctor's name and note.
    await patient.page.getByText('Your host: Dr. Host').waitFor();
    await patient.page.locator('.welcome-note blockquote', { hasText: 'Please have your medication list at hand.' }).waitFor();
    await joinCall(patient, joinLink, 'Pat Patient');
    await patient.page.getByText('Waiting for the host to let you in.').waitFor();
    await patient.page.getByText('Your host: Dr. Host').waitFor();
    await patient.page.locator('.welcome-note blockquote', { hasText: 'Please have your medication list at hand.' }).waitFor();
    await patient.page.getByText('The host has not joined yet.', { exact: false }).waitFor();
    assert.equal(await patient.page.getByText('The host knows you are here').count(), 0);

    // The doctor arrives: the patient's page changes by itself.
    await host.page.setViewportSize({ width: 1280, height: 800 });
    // Counts the chimes (oscillators started) on the host's page.
    await host.context.addInitScript(countTones);
    await joinCall(host, joinLink);
    await patient.page.getByText('The host knows you are here').waitFor();
    const admit = host.page.getByRole('button', { name: 'Admit Pat Patient' });
    await admit.waitFor();
    // The doctor's word reaches the patient signed with the name shown.
    await host.page.getByRole('button', { name: 'Write to Pat Patient' }).click();
    await host.page.getByLabel('Message to Pat Patient').fill('One minute, please.');
    await host.page.getByRole('button', { name: 'Send to Pat Patient' }).click();
    await patient.page.getByText('Dr. Host: One minute, please.').waitFor();
    await host.page.waitForFunction(() => document.title.startsWith('(1) waiting · '));

    // A second patient knocks while the doctor is in a call: the banner is
    // inside the screen within 2 s, the title counts two, a chime sounds.
    await admit.click();
    await waitForRemoteVideos(host.page, 1);
    await host.page.waitForFunction(() => !document.title.includes('waiting'));
    const tones = await host.page.evaluate(() => window.__tones);
    const second = await newPerson(env.browser);
    await second.page.goto(joinLink);
    await second.page.getByLabel('Your name').fill('Sam Second');
    await second.page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Join' && !b.disabled));
    const knocked = Date.now();
    await second.page.getByRole('button', { name: 'Join', exact: true }).click();
    const banner = host.page.getByRole('button', { name: 'Admit Sam Second' });
    await banner.waitFor({ timeout: 2000 });
    const seenAfter = Date.now() - knocked;
    const box = await banner.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 800 && box.x >= 0 && box.x + box.width <= 1280, `the Admit button is at ${JSON.stringify(box)}`);
    console.log(`the host's banner showed ${seenAfter} ms after the knock`);
    assert.ok(seenAfter <= 2000, `the banner took ${seenAfter} ms`);
    await host.page.waitForFunction(() => document.title.startsWith('(1) waiting · Clinic'));
    await host.page.waitForFunction((before) => window.__tones >= before + 2, tones);

    // Turned away, the title is the room's again.
    await host.page.getByRole('button', { name: 'Deny Sam Second' }).click();
    await host.page.waitForFunction(() => !document.title.includes('waiting'));
  });

  it('a host who asked to be notified is notified of a knock while looking elsewhere, and not while looking', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Night clinic', 'Dr. Host', 'Consultation');
    // The browser's side, recorded: leave granted when asked, the tab in or
    // out of sight at the test's word, each notification shown.
    await host.context.addInitScript(() => {
      window.__notified = [];
      let permission = 'default';
      window.Notification = function (text) {
        window.__notified.push(text);
      };
      Object.defineProperty(window.Notification, 'permission', { get: () => permission });
      window.Notification.requestPermission = () => {
        permission = 'granted';
        return Promise.resolve('granted');
      };
      Object.defineProperty(document, 'hidden', { get: () => window.__hidden === true });
    });
    await joinCall(host, joinLink);
    await host.page.getByText('You are the only one here').waitFor();
    await callAction(host.page, 'Notify me when someone waits');
    await host.page.getByText('Your browser will tell you when someone is waiting, even in another tab.').waitFor();

    await host.page.evaluate(() => {
      window.__hidden = true;
    });
    const pat = await newPerson(env.browser);
    await joinCall(pat, joinLink, 'Pat Night');
    await host.page.waitForFunction(() => window.__notified.length > 0);
    assert.deepEqual(await host.page.evaluate(() => window.__notified), ['Pat Night is waiting to join Night clinic.']);

    // Looking at the call, the banner and the chime are enough.
    await host.page.evaluate(() => {
      window.__hidden = false;
    });
    const sam = await newPerson(env.browser);
    await joinCall(sam, joinLink, 'Sam Day');
    await host.page.getByRole('button', { name: 'Admit Sam Day' }).waitFor();
    assert.equal(await host.page.evaluate(() => window.__notified.length), 1);
  });
});
