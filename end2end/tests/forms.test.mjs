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
  });
});
