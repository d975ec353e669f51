// An account's life in a real browser: sign up, change the password, sign
// out, and sign in again with the new password (the old one no longer works).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newPerson, serverAndBrowser, signUpAndIn, waitForHydration } from './support.mjs';

describe('an account', () => {
  const env = serverAndBrowser();

  it('signs up, changes its password, signs out and signs in with the new password', async () => {
    const { page } = await newPerson(env.browser);
    const origin = env.server.origin;
    await signUpAndIn(page, origin, { email: 'teacher@example.org', name: 'Ms. Teacher', password: 'first password 1' });

    await page.getByRole('link', { name: 'Account' }).click();
    await page.waitForURL('**/account');
    await page.getByLabel('Current password').fill('first password 1');
    // Pasting a password (from a password manager) works.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await page.evaluate(() => navigator.clipboard.writeText('second password 2'));
    await page.getByLabel('New password').focus();
    await page.keyboard.press('Control+V');
    assert.equal(await page.getByLabel('New password').inputValue(), 'second password 2');
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

describe('a long call', () => {
  // A 6-second idle limit, so the test need not wait half an hour.
  const env = serverAndBrowser({ HUDDLE_SESSION_IDLE_MINUTES: '0.1' });

  it('keeps the host signed in past the idle limit, while an idle tab is signed out', async () => {
    const origin = env.server.origin;
    const host = await newPerson(env.browser);
    await signUpAndIn(host.page, origin, { email: 'doctor@example.org', name: 'Dr. Long', password: 'long call please' });
    await host.page.getByLabel('Room name').fill('Long consultation');
    await host.page.getByRole('button', { name: 'Create room' }).click();
    const link = await host.page.getByLabel('Join link for Long consultation').inputValue();

    // The idle tab sits on the dashboard, whose poll of waiting guests
    // must not count as activity.
    const idle = await newPerson(env.browser);
    await idle.page.goto(`${origin}/login`);
    await idle.page.getByLabel('Email').fill('doctor@example.org');
    await idle.page.getByLabel('Password').fill('long call please');
    await idle.page.getByRole('button', { name: 'Sign in' }).click();
    await idle.page.waitForURL('**/rooms');

    await host.page.goto(link);
    await waitForHydration(host.page);
    await host.page.getByRole('button', { name: 'Join', exact: true }).click();
    await host.page.getByText('You are the only one here').waitFor();
    await host.page.waitForTimeout(9000);

    const me = (page) => page.evaluate(() => fetch('/api/me', { method: 'POST' }).then((r) => r.json()));
    assert.equal((await me(host.page))?.display_name, 'Dr. Long', 'the host was signed out mid-call');
    assert.equal(await me(idle.page), null, 'the idle tab was not signed out: the limit is not in force');
    await host.page.getByText('You are the only one here').waitFor();
  });
});
