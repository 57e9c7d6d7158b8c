// Roster's browser tests. Every spec runs twice: once with JavaScript disabled (the
// server-rendered pages must work as plain HTML) and once enabled (the hydrated app).
//
// Run through `make test` (or `scripts/e2e.sh`), which builds the release site,
// prepares a seeded database, starts the server and waits until it is ready.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.ROSTER_E2E_PORT ?? 3100);
/** Specs that add, change or delete contacts. */
const writers = /(contacts|import|interchange)\.spec\.ts$/;
/** Specs about what only happens with JavaScript: hydrated behaviour, code loaded
 * later, timings read by script. */
const scripted = /(-as-you-type|lazy-pages|budget)\.spec\.ts$/;

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  forbidOnly: true,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  // Specs that only read run first; the ones that change the directory (contacts,
  // import) run after them, so a page of "newest contacts" cannot change under a
  // reading test. Writers make contacts with names of their own and look only at those.
  //
  // Every spec runs signed in as the admin (`auth.setup.ts` signs in first) unless it
  // says otherwise.
  projects: [
    { name: 'setup', testMatch: /auth\.setup\.ts$/ },
    {
      name: 'no-javascript',
      use: { javaScriptEnabled: false, storageState: '.auth/admin.json' },
      testIgnore: [scripted, writers],
      dependencies: ['setup'],
    },
    {
      name: 'javascript',
      use: { javaScriptEnabled: true, storageState: '.auth/admin.json' },
      testIgnore: writers,
      dependencies: ['setup'],
    },
    {
      name: 'no-javascript writes',
      use: { javaScriptEnabled: false, storageState: '.auth/admin.json' },
      testMatch: writers,
      dependencies: ['no-javascript', 'javascript'],
    },
    {
      name: 'javascript writes',
      use: { javaScriptEnabled: true, storageState: '.auth/admin.json' },
      testMatch: writers,
      dependencies: ['no-javascript', 'javascript'],
    },
  ],
});
