// The monitoring dashboard: an admin watches traffic arrive; others are refused.
import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';

/** The number of searches the dashboard's search panel reports. */
async function searchCount(page: Page): Promise<number> {
  const text = await page.getByTestId('search-count').textContent();
  return Number((text ?? '').replace(/,/g, ''));
}

test('an admin sees searches made elsewhere on the next refresh', async ({ page, context, ready, javaScriptEnabled }) => {
  await page.goto('/admin');
  await ready(page);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  // One tile per rule and per dependency, each with a verdict.
  await expect(page.getByTestId('tile')).toHaveCount(7);
  await expect(page.getByTestId('tile').filter({ hasText: 'Postgres' })).toContainText('OK');
  await expect(page.locator('.chart svg').first()).toBeVisible();
  await expect(page.getByTestId('instance')).not.toHaveCount(0);
  const before = await searchCount(page);

  // Someone searches in another tab.
  const other = await context.newPage();
  for (const word of ['dashboard', 'monitor', 'zebra']) {
    const response = await other.goto(`/?q=${word}`);
    expect(response?.status()).toBe(200);
  }
  await other.close();

  if (javaScriptEnabled) {
    // The page refreshes itself every 5 s.
    await expect.poll(() => searchCount(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(before + 3);
    await expect(page.getByTestId('updated')).toContainText('updated');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByTestId('updated')).toContainText('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByTestId('updated')).not.toContainText('paused');
  } else {
    // Without JavaScript: the same page, reloaded.
    await page.getByRole('link', { name: 'Reload' }).click();
    expect(await searchCount(page)).toBeGreaterThanOrEqual(before + 3);
  }
});

test('the period selector changes the span of the charts', async ({ page, ready }) => {
  await page.goto('/admin');
  await ready(page);
  await page.getByRole('navigation', { name: 'Period' }).getByRole('link', { name: '6 h' }).click();
  await expect(page).toHaveURL(/period=6h/);
  await expect(page.getByRole('link', { name: '6 h' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByText('The last 6 h, all instances')).toBeVisible();
});

test('the audit log filters by action', async ({ page, ready }) => {
  await page.goto('/admin');
  await ready(page);
  const audit = page.getByRole('region', { name: 'Audit log' });
  await audit.getByLabel('Action').selectOption('delete');
  await audit.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=delete/);
  // Whatever is listed is a deletion.
  const actions = audit.locator('[data-testid="audit-table"] tbody tr td:nth-child(3)');
  for (const action of await actions.allTextContents()) expect(action).toBe('delete');
});

test.describe('a viewer', () => {
  test.use({ storageState: '.auth/viewer.json' });

  test('gets the 403 page', async ({ page }) => {
    const response = await page.goto('/admin');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.getByTestId('tile')).toHaveCount(0);
  });
});
