// An account's life in a real browser: sign up, change the password, sign
// out, and sign in again with the new password (the old one no longer works).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newPerson, serverAndBrowser, signUpAndIn } from './support.mjs';

describe('an account', () => {
  const env = serverAndBrowser();

  it('signs up, changes its password, signs out and signs in with the new password', async () => {
    const { page } = await newPerson(env.browser);
    const origin = env.server.origin;
    await signUpAndIn(page, origin, { email: 'teacher@example.org', name: 'Ms. Teacher', password: 'first password 1' });

    await page.getByRole('link', { name: 'Account' }).click();
    await page.waitForURL('**/account');
    await page.getByLabel('Current password').fill('first password 1');
    await page.getByLabel('New password').fill('second password 2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed.').waitFor();
    // The change is in the account's security events.
    await page.getByRole('cell', { name: 'Password change' }).waitFor();

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

    await page.goto(`${origin}/login`);
    await page.getByLabel('Email').fill('teacher@example.org');
    await page.getByLabel('Password').fill('first password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();

    await page.getByLabel('Email').fill('teacher@example.org');
    await page.getByLabel('Password').fill('second password 2');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/rooms');
    assert.equal(await page.locator('.who').textContent(), 'Ms. Teacher');
  });
});
