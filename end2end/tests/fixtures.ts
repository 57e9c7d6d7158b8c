// Shared test setup: every page fails its test on an uncaught error or a console
// error (a hydration mismatch shows up as one), and `ready` waits until the page can
// be used: at once without JavaScript, after hydration with it.
import { test as base, expect, type Page } from '@playwright/test';

export const test = base.extend<{ ready: (page: Page) => Promise<void> }>({
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await use(page);
    expect(problems, 'the page logged no errors').toEqual([]);
  },
  ready: async ({ javaScriptEnabled }, use) => {
    await use(async (page: Page) => {
      if (javaScriptEnabled) {
        await expect(page.locator('body')).toHaveAttribute('data-hydrated', '');
      }
    });
  },
});

export { expect };
