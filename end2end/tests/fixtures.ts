// Shared test setup: every page fails its test on an uncaught error or a console
// error (a hydration mismatch shows up as one), and `ready` waits until the page can
// be used: at once without JavaScript, once its islands are hydrated with it.
//
// One console error is expected and not counted: Chromium reports a document that
// answers with an error status (a 404 page), which the test checks itself. A failed
// script, stylesheet or API call still fails the test, unless the test says it
// expects that call to be refused (`expectRefusal`), as a wrong password is.
import { test as base, expect, type Page } from '@playwright/test';

const refusals = new WeakMap<Page, string[]>();

/** The test expects calls to `path` to be refused (and checks what the page shows). */
export function expectRefusal(page: Page, path: string) {
  refusals.set(page, [...(refusals.get(page) ?? []), path]);
}

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
      const failedLoad = message.text().startsWith('Failed to load resource');
      const url = message.location().url;
      const failedDocument = failedLoad && documents.has(url);
      const expected =
        failedLoad && (refusals.get(page) ?? []).some((path) => new URL(url).pathname === path);
      if (!failedDocument && !expected) problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    await use(page);
    expect(problems, 'the page logged no errors').toEqual([]);
  },
  ready: async ({ javaScriptEnabled }, use) => {
    await use(async (page: Page) => {
      if (javaScriptEnabled) {
        // The wasm has started, and every island on the page is live (an island's
        // code may come in a chunk of its own, after the rest).
        await expect(page.locator('body')).toHaveAttribute('data-hydrated', '');
        await expect(page.locator('leptos-island:not([data-hydrated])')).toHaveCount(0);
      }
    });
  },
});

export { expect };
