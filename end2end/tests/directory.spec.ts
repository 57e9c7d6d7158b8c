import { test, expect } from './fixtures';

// The e2e database holds a fixed seeded set of more than two pages of contacts.

test('the directory lists fifty contacts with their details', async ({ page, ready }) => {
  await page.goto('/');
  await ready(page);

  await expect(page).toHaveTitle('Directory · Roster');
  await expect(page.getByRole('heading', { name: 'Directory', level: 1 })).toBeVisible();
  for (const column of ['Name', 'Company', 'Title', 'Location', 'Tier', 'Tags']) {
    await expect(page.getByRole('columnheader', { name: column })).toBeVisible();
  }
  await expect(page.locator('tbody tr')).toHaveCount(50);
  const firstRow = page.locator('tbody tr').first();
  await expect(firstRow.locator('.contact-link')).not.toBeEmpty();
  await expect(firstRow.locator('.tier')).toHaveText(/^T[1-4]$/);
});

test('paging forward and back shows other contacts, then the same ones again', async ({
  page,
  ready,
  javaScriptEnabled,
}) => {
  await page.goto('/');
  await ready(page);
  const names = page.locator('tbody tr .contact-link');
  const firstPage = await names.allTextContents();

  // With JavaScript, paging must not reload the document: a marker on `window` survives
  // client-side navigation only, and no new document may be requested.
  const documentRequests: string[] = [];
  if (javaScriptEnabled) {
    await page.evaluate(() => ((window as any).__sameDocument = true));
    page.on('request', (request) => {
      if (request.resourceType() === 'document') documentRequests.push(request.url());
    });
  }
  await expect(page.getByRole('link', { name: 'Previous' })).toHaveCount(0);

  await page.getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/\?after=/);
  await expect(names.first()).not.toHaveText(firstPage[0]);
  const secondPage = await names.allTextContents();
  expect(secondPage).toHaveLength(50);
  expect(secondPage).not.toEqual(firstPage);

  await page.getByRole('link', { name: 'Previous' }).click();
  await expect(page).toHaveURL(/\?before=/);
  await expect(names.first()).toHaveText(firstPage[0]);
  expect(await names.allTextContents()).toEqual(firstPage);

  await page.getByRole('link', { name: 'Last' }).click();
  await expect(page).toHaveURL(/\?last=1/);
  await expect(page.getByRole('link', { name: 'Next' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'First' })).toBeVisible();

  if (javaScriptEnabled) {
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(documentRequests).toEqual([]);
  }
});

test('an unknown address shows the not-found page', async ({ page, ready }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await ready(page);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the directory' }).click();
  await expect(page.getByRole('heading', { name: 'Directory' })).toBeVisible();
});
