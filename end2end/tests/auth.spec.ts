// Accounts: signing in and out, a wrong password, and what a viewer may not do.
import { test, expect, expectRefusal } from './fixtures';

const password = process.env.ROSTER_E2E_PASSWORD ?? '';

test.describe('signing in', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('a stranger signs in, lands where they were going, and signs out', async ({ page, ready }) => {
    await page.goto('/?q=ann');
    await expect(page).toHaveURL(/\/login\?next=/);
    await ready(page);
    await page.getByLabel('Email').fill('editor@e2e.example');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/\?q=ann$/);
    await expect(page.getByRole('navigation', { name: 'Account' })).toContainText('editor@e2e.example');
    await ready(page);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=/);
  });

  test('a wrong password gets a message and no session', async ({ page, ready }) => {
    expectRefusal(page, '/api/sign-in');
    await page.goto('/login');
    await ready(page);
    await page.getByLabel('Email').fill('nobody@e2e.example');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test.describe('a viewer', () => {
  test.use({ storageState: '.auth/viewer.json' });

  test('sees no edit controls, and a direct call is refused', async ({ page, ready }) => {
    await page.goto('/');
    await ready(page);
    await expect(page.getByRole('heading', { name: 'Directory' })).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Account' })).toContainText('Viewer');
    await expect(page.getByRole('link', { name: 'New contact' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Import' })).toHaveCount(0);
    await expect(page.locator('table')).toBeVisible();
    await expect(page.locator('table').getByRole('checkbox')).toHaveCount(0);

    await page.locator('table a').first().click();
    await expect(page).toHaveURL(/\/contacts\/[0-9a-f-]+$/);
    await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Delete' })).toHaveCount(0);

    // Whatever the page shows, the server decides: a save posted directly is refused.
    const response = await page.request.post('/api/save-contact', {
      form: { name: 'Made by a viewer' },
      // Said to come from Roster's own page, so the role is what refuses it.
      headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
    });
    expect(response.status()).toBe(403);
  });
});
