// For every person: axe-core finds nothing serious or critical on the pages
// a host and a guest pass through, and a phone-sized screen reaches every
// control of a call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callAction, hostWithRoom, joinCall, newPerson, noSeriousViolations, serverAndBrowser, toggles, waitForHydration, waitForRemoteVideos, waitPressed } from './support.mjs';

describe('for every person', () => {
  const env = serverAndBrowser();
  let host;
  let meetingLink;

  it('no serious or critical accessibility problems on home, sign-in, dashboard, room settings, pre-join (with a welcome note), lobby, call and end screens', async () => {
    const visitor = await newPerson(env.browser);
    await visitor.page.goto(env.server.origin);
    await noSeriousViolations(visitor.page, 'home');
    await visitor.page.goto(`${env.server.origin}/login`);
    await noSeriousViolations(visitor.page, 'sign-in');

    ({ host, joinLink: meetingLink } = await hostWithRoom(env.browser, env.server.origin, 'Team meeting'));
    await host.page.getByLabel('Room name').fill('Consults');
    await host.page.getByRole('radio', { name: 'Consultation' }).check();
    await host.page.getByRole('button', { name: 'Create room' }).click();
    const consultLink = await host.page.getByLabel('Join link for Consults').inputValue();
    await noSeriousViolations(host.page, 'dashboard');
    await host.page.getByRole('link', { name: 'Settings of Consults' }).click();
    await host.page.getByRole('heading', { name: 'Attendance' }).waitFor();
    await noSeriousViolations(host.page, 'room settings');
    await host.page.getByLabel('Show my name to guests before they join').check();
    await host.page.getByLabel('Welcome note (optional)').fill('Welcome. I will be with you shortly.');
    await host.page.getByRole('button', { name: 'Save what guests see' }).click();
    await host.page.getByText('What guests see before you let them in is saved.').waitFor();

    const guest = await newPerson(env.browser);
    await guest.page.goto(consultLink);
    await waitForHydration(guest.page);
    await guest.page.getByText('Camera and microphone are working.').waitFor();
    await noSeriousViolations(guest.page, 'pre-join');
    await guest.page.getByLabel('Your name').fill('Pat Patient');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.page.getByText('Waiting for the host to let you in.').waitFor();
    await noSeriousViolations(guest.page, 'lobby (guest waiting)');

    await joinCall(host, consultLink);
    await host.page.getByRole('button', { name: 'Admit Pat Patient' }).waitFor();
    await noSeriousViolations(host.page, 'call (host, with someone waiting)');
    await host.page.getByRole('button', { name: 'Admit Pat Patient' }).click();
    await waitForRemoteVideos(guest.page, 1);
    for (const panel of ['Chat', 'People']) {
      await guest.page.getByRole('button', { name: new RegExp(`^${panel}`) }).click();
      await noSeriousViolations(guest.page, `call (guest, ${panel} open)`);
    }
    await callAction(guest.page, 'Camera and microphone settings');
    await guest.page.locator('.tile.remote .quality summary').click();
    await noSeriousViolations(guest.page, 'call (guest, settings and figures open)');
    // A poll: the host's form, then the card each sees.
    await callAction(host.page, 'New poll');
    await host.page.getByRole('form', { name: 'New poll' }).waitFor();
    await noSeriousViolations(host.page, 'call (host, the form of a new poll)');
    await host.page.getByLabel('Question').fill('Ready to start?');
    await host.page.getByRole('button', { name: 'Yes / No' }).click();
    await host.page.getByRole('button', { name: 'Start poll' }).click();
    await guest.page.getByRole('region', { name: 'Ready to start?' }).waitFor();
    await noSeriousViolations(guest.page, 'call (guest, asked a poll)');
    await host.page.getByRole('region', { name: 'Ready to start?' }).waitFor();
    await noSeriousViolations(host.page, "call (host, a poll's results)");
    await guest.page.getByRole('button', { name: 'More', exact: true }).click();
    await noSeriousViolations(guest.page, 'call (guest, More menu open)');
    await guest.page.keyboard.press('Escape');
    await guest.page.getByRole('button', { name: 'Leave' }).click();
    await guest.page.getByRole('heading', { name: 'You left the call' }).waitFor();
    await noSeriousViolations(guest.page, 'end screen (guest)');
    await host.page.getByRole('button', { name: 'Leave' }).click();
    await noSeriousViolations(host.page, "call (host, the hang-up's choices open)");
    await host.page.getByRole('button', { name: 'Just leave (the call goes on)' }).click();
    await host.page.getByRole('heading', { name: 'Summary' }).waitFor();
    await noSeriousViolations(host.page, 'end screen (host, with the summary)');
  });

  it('on a phone-sized screen a guest joins a call and reaches every control', async () => {
    await joinCall(host, meetingLink);
    const phone = await newPerson(env.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page } = phone;
    await joinCall(phone, meetingLink, 'Phone Pat');
    await waitForRemoteVideos(page, 1);
    await page.locator('.tile.remote .quality summary').tap();

    // Nothing wider than the screen, and every control inside it: the
    // call's own, then each panel's (a sheet over the call on a phone).
    const allInside = async (what) => {
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), `the page scrolls sideways (${what})`);
      const controls = page.locator(':is(button, select, textarea, input, summary, a):visible');
      const count = await controls.count();
      assert.ok(count >= 5, `only ${count} controls found (${what})`);
      for (let i = 0; i < count; i += 1) {
        const control = controls.nth(i);
        await control.scrollIntoViewIfNeeded();
        const box = await control.boundingBox();
        const name = (await control.getAttribute('aria-label')) ?? (await control.textContent());
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y >= 0 && box.y + box.height <= 844, `${name} is off screen (${what}): ${JSON.stringify(box)}`);
        assert.ok(box.height >= 24, `${name} is too small to tap (${what}): ${JSON.stringify(box)}`);
      }
    };
    await allInside('the call');
    for (const panel of ['Chat', 'People']) {
      await page.getByRole('button', { name: new RegExp(`^${panel}`) }).tap();
      await allInside(panel);
      await page.getByRole('button', { name: `Close ${panel.toLowerCase()}` }).tap();
    }
    await page.getByRole('button', { name: 'More', exact: true }).tap();
    await allInside('the More menu');
    await page.getByRole('button', { name: 'Camera and microphone settings' }).tap();
    await allInside('settings');
    await page.getByRole('button', { name: 'Close settings' }).tap();
    // And they work by touch.
    const hand = toggles.hand(page);
    await hand.tap();
    await waitPressed(hand, true);
    await page.getByRole('button', { name: /^Chat/ }).tap();
    await page.getByLabel('Message to everyone').fill('Hello from my phone');
    await page.getByRole('button', { name: 'Send' }).tap();
    await page.locator('.chat .messages li', { hasText: 'Hello from my phone' }).waitFor();
    await page.getByRole('button', { name: 'Close chat' }).tap();
    await page.getByRole('button', { name: 'Leave' }).tap();
    await page.getByText('You left the call').waitFor();
  });

  it('the keyboard alone reaches the call controls, with a visible focus', async () => {
    const { page } = host;
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    const reached = new Set();
    for (let i = 0; i < 80 && !reached.has('Leave'); i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { text: el.textContent.trim(), outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
      });
      if (focused.text) {
        assert.ok(focused.outline, `no visible focus on "${focused.text}"`);
        reached.add(focused.text);
      }
    }
    for (const name of ['Mute microphone', 'Stop camera', 'Share screen', 'Raise hand', 'Chat', 'People', 'More', 'Leave']) {
      // "Chat" may carry its unread count ("Chat 1 unread").
      assert.ok([...reached].some((text) => text.startsWith(name)), `Tab never reached ${name} (reached ${[...reached].join(', ')})`);
    }
    // Enter and Space operate the focused toggle.
    const hand = toggles.hand(page);
    await hand.focus();
    await page.keyboard.press('Enter');
    await waitPressed(hand, true);
    await page.keyboard.press('Space');
    await waitPressed(hand, false);
  });
});
