// Shared test setup: every page fails its test on an uncaught error or a console
// error (a hydration mismatch shows up as one), and `ready` waits until the page can
// be used: at once without JavaScript, after hydration with it.
//
// One console error is expected and not counted: Chromium reports a document that
// answers with an error status (a 404 page), which the test checks itself. A failed
// script, stylesheet or API call still fails the test.
import { test as base, expect, type Page } from '@playwright/test';

export const test = base.extend<{ ready: (page: Page) => Promise<void> }>({
  page: async ({ page }, use) => {
    const problems: string[] = [];
    const documents = new Set<string>();
    page.on('request', (request) => {
      if (request.isNavigationRequest()) documents.add(request.url());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const failedDocument =
        message.text().startsWith('Failed to load resource') && documents.has(message.location().url);
      if (!failedDocument) problems.push(`console error: ${message.text()} (${message.location().url})`);
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
