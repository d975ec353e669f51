// Forms work before (or without) the WASM: a slow phone is never stuck.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { serverAndBrowser, signUpAndIn } from './support.mjs';

describe('forms without JavaScript', () => {
  const env = serverAndBrowser();
  let page;

  before(async () => {
    const context = await env.browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
  });

  it('sign up, sign in, create a room, sign out and sign in again', async () => {
    await signUpAndIn(page, env.server.origin, { email: 'nojs@example.org', name: 'No Script', password: 'correct horse battery' });

    await page.getByLabel('Room name').fill('Plain HTML');
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.getByLabel('Join link for Plain HTML').waitFor();

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${env.server.origin}/`);
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

    await page.goto(`${env.server.origin}/login`);
    await page.getByLabel('Email').fill('nojs@example.org');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/rooms');
    await page.getByLabel('Join link for Plain HTML').waitFor();
  });

  it('a wrong password shows one message that does not say which part was wrong', async () => {
    for (const email of ['nojs@example.org', 'nobody@example.org']) {
      await page.goto(`${env.server.origin}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'do not match' });
      await alert.waitFor();
      assert.equal(
        (await alert.textContent()).trim(),
        'That email and password do not match an account. Please try again.',
      );
    }
  });

  it('an invalid field gets its message next to it', async () => {
    await page.goto(`${env.server.origin}/signup`);
    await page.getByLabel('Email').fill('another@example.org');
    await page.getByLabel('Display name').fill('Short Password');
    await page.getByLabel('Password').fill('short12');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/signup?**');
    const message = page.locator('#field-password-error');
    await message.waitFor();
    assert.match(await message.textContent(), /at least 8 characters/);
    // What was typed is still there, except the password.
    assert.equal(await page.getByLabel('Email').inputValue(), 'another@example.org');
    assert.equal(await page.getByLabel('Display name').inputValue(), 'Short Password');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    // Only once: the page forgets it.
    await page.goto(`${env.server.origin}/signup`);
    assert.equal(await page.getByLabel('Email').inputValue(), '');
  });

  it('a wrong password or a refused session keeps what was typed', async () => {
    await page.goto(`${env.server.origin}/login`);
    await page.getByLabel('Email').fill('nojs@example.org');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), 'nojs@example.org');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/rooms');

    await page.getByRole('link', { name: 'Settings of Plain HTML' }).click();
    await page.getByLabel('Title').fill('Kept title');
    await page.getByLabel('Date').fill('2030-01-15');
    await page.getByLabel('Start time').fill('09:30');
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByLabel('Note for the guest (optional)').fill('Bring the forms.');
    await page.getByRole('button', { name: 'Schedule session' }).click();
    await page.locator('#field-time_zone-error').filter({ hasText: /./ }).waitFor();
    assert.equal(await page.getByLabel('Title').inputValue(), 'Kept title');
    assert.equal(await page.getByLabel('Date').inputValue(), '2030-01-15');
    assert.equal(await page.getByLabel('Start time').inputValue(), '09:30');
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'Mars/Olympus');
    assert.equal(await page.getByLabel('Note for the guest (optional)').inputValue(), 'Bring the forms.');
  });

  it('the home page says how it works, and opens a pasted join link', async () => {
    await page.goto(`${env.server.origin}/rooms`);
    const link = await page.getByLabel('Join link for Plain HTML').inputValue();
    await page.goto(`${env.server.origin}/`);
    await page.getByRole('heading', { name: 'How it works' }).waitFor();
    const picture = page.getByRole('img', { name: /A Huddle call/ });
    const src = await picture.getAttribute('src');
    const svg = await page.request.get(`${env.server.origin}${src}`);
    assert.equal(svg.status(), 200);
    assert.match(svg.headers()['content-type'], /^image\/svg\+xml/);
    // Something that is no link is said so, next to the box.
    await page.getByLabel('Paste the join link you were sent').fill('see you at 9');
    await page.getByRole('button', { name: 'Open the link' }).click();
    await page.getByText('That does not look like a Huddle join link.').waitFor();
    assert.equal(await page.getByLabel('Paste the join link you were sent').getAttribute('aria-invalid'), 'true');
    // The link as pasted from a message, spaces and all, opens the room.
    await page.getByLabel('Paste the join link you were sent').fill(`  ${link}  `);
    await page.getByRole('button', { name: 'Open the link' }).click();
    await page.waitForURL(link);
    await page.getByRole('heading', { name: 'Plain HTML' }).waitFor();
  });
});
