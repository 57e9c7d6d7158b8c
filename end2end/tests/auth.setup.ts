// Signs in once per account through the real sign-in page and keeps the session
// cookie for the specs (`.auth/<role>.json`), as a person who stays signed in.
import { test as setup, expect } from '@playwright/test';

const password = process.env.ROSTER_E2E_PASSWORD ?? '';
const accounts = {
  admin: process.env.ROSTER_E2E_ADMIN_EMAIL ?? 'admin@e2e.example',
  editor: 'editor@e2e.example',
  viewer: 'viewer@e2e.example',
};

// The admin of the server on an empty directory (scripts/e2e.sh), where the
// interchange spec imports its exports.
setup('sign in as the admin of the empty directory', async ({ page }) => {
  const port = process.env.ROSTER_E2E_EMPTY_PORT ?? '3103';
  await page.goto(`http://127.0.0.1:${port}/login`);
  await page.getByLabel('Email').fill(accounts.admin);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Directory' })).toBeVisible();
  await page.context().storageState({ path: '.auth/admin-empty.json' });
});

for (const [role, email] of Object.entries(accounts)) {
  setup(`sign in as the ${role}`, async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Directory' })).toBeVisible();
    await page.context().storageState({ path: `.auth/${role}.json` });
  });
}
