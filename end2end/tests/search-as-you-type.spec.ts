import { test, expect, expectRefusal } from './fixtures';

// Hydrated behaviour only: this file runs in the "javascript" project.

test('typing a prefix shows results without a navigation', async ({ page, ready }) => {
  await page.goto('/');
  await ready(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const documents: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'document') documents.push(request.url());
  });

  await page.getByRole('searchbox', { name: 'Search contacts' }).pressSequentially('bartho', { delay: 40 });

  await expect(page).toHaveURL(/\?q=bartho$/);
  await expect(page.locator('tbody tr .contact-link').first()).toHaveText('Bartholomew Quigley');
  await expect(page.locator('tbody tr').first().locator('mark')).toHaveText(['Bartho']);
  await expect(page.locator('.summary-time')).toContainText('ms');
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  expect(documents).toEqual([]);
});

test('a typo still finds the right contact', async ({ page, ready }) => {
  await page.goto('/');
  await ready(page);
  await page.getByRole('searchbox', { name: 'Search contacts' }).fill('Bartholemew Quigly');
  await expect(page.locator('tbody tr .contact-link').first()).toHaveText('Bartholomew Quigley');
});

test('the keyboard finds and opens a contact', async ({ page, ready }) => {
  await page.goto('/');
  await ready(page);

  await page.keyboard.press('/');
  const box = page.getByRole('searchbox', { name: 'Search contacts' });
  await expect(box).toBeFocused();
  await page.keyboard.type('anthony may');
  // Wait until the results shown are those of the whole text, not of a prefix
  // typed before a pause: the keyboard selection starts afresh with each search.
  await expect(page).toHaveURL(/\?q=anthony%20may$/);
  await expect(page.locator('.main-column')).not.toHaveAttribute('aria-busy', 'true');
  await expect(page.locator('tbody tr .contact-link').first()).toHaveText('Anthony May');

  await page.keyboard.press('ArrowDown');
  await expect(page.locator('tbody tr').nth(0)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('tbody tr').nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowUp');
  await expect(page.locator('tbody tr').nth(0)).toHaveAttribute('aria-selected', 'true');
  await expect(box).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/contacts\//);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Anthony May');

  await page.goBack();
  await expect(page.getByRole('searchbox', { name: 'Search contacts' })).toHaveValue('anthony may');
});

test('links within the results are followed in place, and Back and Forward show theirs', async ({ page, ready }) => {
  await page.goto('/');
  await ready(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const names = page.locator('tbody tr .contact-link');
  const firstPage = await names.allTextContents();
  const pager = page.getByRole('navigation', { name: 'Directory pages' });

  await pager.getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/\?after=/);
  await expect(names.first()).not.toHaveText(firstPage[0]);
  const secondPage = await names.allTextContents();

  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(names.first()).toHaveText(firstPage[0]);
  expect(await names.allTextContents()).toEqual(firstPage);
  await page.goForward();
  await expect(page).toHaveURL(/\?after=/);
  await expect(names.first()).toHaveText(secondPage[0]);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test.describe('over the search limit', () => {
  // A second server keeps a limit of 6 searches a minute (see scripts/e2e.sh): one
  // comes back every 10 s, long enough for the refusal to be seen on a busy machine.
  const limited = `http://127.0.0.1:${process.env.ROSTER_E2E_LIMITED_PORT ?? 3101}`;
  test.use({ storageState: { cookies: [], origins: [] } });

  test('a refused search says so and is tried again after the delay', async ({ page, ready }) => {
    test.setTimeout(60_000);
    expectRefusal(page, '/api/directory-view');
    await page.goto(`${limited}/login`);
    await page.getByLabel('Email').fill('viewer@e2e.example');
    await page.getByLabel('Password').fill(process.env.ROSTER_E2E_PASSWORD ?? '');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Directory' })).toBeVisible();
    await ready(page);

    // Spend the minute's searches (the page's own session), then search by typing.
    let status = 200;
    while (status !== 429) {
      status = (await page.request.get(`${limited}/api/search?query=q%3Dann`)).status();
    }
    await page.getByRole('searchbox', { name: 'Search contacts' }).fill('Bartholomew');
    await expect(page.getByRole('status').filter({ hasText: 'Trying again in' })).toBeVisible();
    await expect(page.locator('tbody tr .contact-link').first()).toHaveText('Bartholomew Quigley', {
      timeout: 20_000,
    });
  });
});
